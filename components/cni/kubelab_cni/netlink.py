"""pyroute2 handles for the plugin's own namespace and for a container's."""

from __future__ import annotations

import errno
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pyroute2.iproute.linux import IPRoute  # type: ignore[import-untyped]
from pyroute2.netlink.exceptions import NetlinkError  # type: ignore[import-untyped]

from kubelab_cni import netns
from kubelab_cni.protocol import CniError

__all__ = [
    "IPRoute",
    "NetlinkError",
    "drop_host_socket",
    "host",
    "inside",
    "keep_host_socket",
    "link_attrs",
    "link_by_name",
    "link_index",
]


_cache = threading.local()


def keep_host_socket() -> None:
    """Let ``host()`` in the calling thread reuse one netlink handle across calls.

    For the daemon's long-lived worker threads: a pyroute2 ``IPRoute`` costs an event loop
    and a socket to build and tear down, more than a typical request on it. The handle
    keeps the namespace the thread was in when it was made, so only threads that never
    ``setns`` may keep one (the daemon's workers; ``netns.run_inside`` uses helper threads).
    """
    _cache.keep = True


def drop_host_socket() -> None:
    ipr = getattr(_cache, "ipr", None)
    _cache.ipr = None
    if ipr is not None:
        ipr.close()


@contextmanager
def host() -> Iterator[IPRoute]:
    """rtnetlink in the namespace of the calling thread (the node's)."""
    if not getattr(_cache, "keep", False):
        ipr = IPRoute(groups=0)
        try:
            yield ipr
        finally:
            ipr.close()
        return
    ipr = getattr(_cache, "ipr", None)
    if ipr is None:
        ipr = _cache.ipr = IPRoute(groups=0)
    try:
        yield ipr
    except (NetlinkError, CniError):
        raise  # an error answer (or our own refusal) leaves the socket in step
    except BaseException:
        drop_host_socket()  # anything else may have left it mid-conversation: start afresh
        raise


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


def _attrs(msg: Any) -> dict[str, Any]:
    info = msg.get("IFLA_LINKINFO")
    return {
        "index": msg["index"],
        "name": msg.get("IFLA_IFNAME"),
        "mac": msg.get("IFLA_ADDRESS") or "",
        "mtu": msg.get("IFLA_MTU"),
        "master": msg.get("IFLA_MASTER"),
        "alias": msg.get("IFLA_IFALIAS"),
        "kind": info.get("IFLA_INFO_KIND") if info else None,
        "up": bool(msg["flags"] & 1),
    }


def link_attrs(ipr: IPRoute, index: int) -> dict[str, Any]:
    """The attributes of a link that results and checks use."""
    return _attrs(ipr.link("get", index=index)[0])


def link_by_name(ipr: IPRoute, name: str) -> dict[str, Any] | None:
    """``link_attrs`` of the link called ``name`` (one request), or None if there is none."""
    try:
        msgs = ipr.link("get", ifname=name)
    except NetlinkError as exc:
        if exc.code in (errno.ENODEV, errno.ENOENT):
            return None
        raise
    return _attrs(msgs[0]) if msgs else None
