"""pyroute2 handles for the plugin's own namespace and for a container's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pyroute2.iproute.linux import IPRoute  # type: ignore[import-untyped]
from pyroute2.netlink.exceptions import NetlinkError  # type: ignore[import-untyped]

from kubelab_cni import netns

__all__ = ["IPRoute", "NetlinkError", "host", "inside", "link_attrs", "link_index"]


@contextmanager
def host() -> Iterator[IPRoute]:
    """rtnetlink in the namespace of the calling thread (the node's)."""
    ipr = IPRoute(groups=0)
    try:
        yield ipr
    finally:
        ipr.close()


@contextmanager
def inside(fd: int) -> Iterator[IPRoute]:
    """rtnetlink inside the namespace ``fd``."""
    sock = netns.netlink_socket(fd)
    ipr = IPRoute(fileno=sock.detach(), groups=0)
    try:
        yield ipr
    finally:
        ipr.close()


def link_index(ipr: IPRoute, name: str) -> int | None:
    found: list[int] = ipr.link_lookup(ifname=name)
    return found[0] if found else None


def link_attrs(ipr: IPRoute, index: int) -> dict[str, Any]:
    """The attributes of a link that results and checks use."""
    msg = ipr.link("get", index=index)[0]
    info = msg.get("IFLA_LINKINFO")
    return {
        "name": msg.get("IFLA_IFNAME"),
        "mac": msg.get("IFLA_ADDRESS") or "",
        "mtu": msg.get("IFLA_MTU"),
        "master": msg.get("IFLA_MASTER"),
        "alias": msg.get("IFLA_IFALIAS"),
        "kind": info.get("IFLA_INFO_KIND") if info else None,
        "up": bool(msg["flags"] & 1),
    }
