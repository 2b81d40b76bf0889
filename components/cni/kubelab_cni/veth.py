"""The veth pair of one attachment: host end on the bridge, container end in the pod's namespace.

The host end's name is derived from (containerID, ifname), and the pair is created in one
netlink request with the peer placed directly in the container namespace, so there is never
a half-moved pair. The host end carries an alias naming the attachment, so GC can find the
veths of attachments it no longer knows.
"""

from __future__ import annotations

import errno
import hashlib
from dataclasses import dataclass

from kubelab_cni.netlink import IPRoute, NetlinkError, link_by_name, link_index
from kubelab_cni.protocol import CniError, Code

ALIAS_PREFIX = "kubelab-cni"


def host_name(container_id: str, ifname: str) -> str:
    return "veth" + hashlib.sha256(f"{container_id}/{ifname}".encode()).hexdigest()[:11]


def alias(network: str, container_id: str, ifname: str) -> str:
    return f"{ALIAS_PREFIX}/{network}/{container_id}/{ifname}"


def parse_alias(text: str | None) -> tuple[str, str, str] | None:
    """(network, containerID, ifname) from an alias this plugin wrote, else None."""
    if not text:
        return None
    parts = text.split("/")
    if len(parts) != 4 or parts[0] != ALIAS_PREFIX:
        return None
    return parts[1], parts[2], parts[3]


@dataclass(frozen=True)
class Pair:
    host_index: int
    host_name: str
    host_mac: str
    container_index: int
    container_mac: str
    mtu: int


def create(
    host: IPRoute,
    container: IPRoute,
    netns_fd: int,
    *,
    network: str,
    container_id: str,
    ifname: str,
    mtu: int | None,
) -> Pair:
    if link_index(container, ifname) is not None:
        raise CniError(Code.INTERFACE_EXISTS, f"interface {ifname} already exists in the container")
    name = host_name(container_id, ifname)
    remove_link(host, name)  # left by an ADD of this attachment that died; its peer went with the netns
    spec: dict[str, object] = {"ifname": name, "kind": "veth", "peer": {"ifname": ifname, "net_ns_fd": netns_fd}}
    if mtu:
        spec["mtu"] = mtu
        spec["peer"] = {"ifname": ifname, "net_ns_fd": netns_fd, "mtu": mtu}
    try:
        host.link("add", **spec)
    except NetlinkError as exc:
        if exc.code == errno.EEXIST:
            raise CniError(Code.INTERFACE_EXISTS, f"interface {ifname} already exists in the container") from exc
        raise CniError(Code.NETLINK_FAILURE, "cannot create the veth pair", str(exc)) from exc
    h = link_by_name(host, name)
    c = link_by_name(container, ifname)
    if h is None or c is None:
        raise CniError(Code.NETLINK_FAILURE, "veth pair missing right after it was created")
    host.link("set", index=h["index"], ifalias=alias(network, container_id, ifname))
    return Pair(h["index"], name, h["mac"], c["index"], c["mac"], int(c["mtu"]))


def attach(host: IPRoute, pair: Pair, bridge: int, hairpin: bool) -> None:
    host.link("set", index=pair.host_index, master=bridge, state="up")
    if hairpin:
        host.brport("set", index=pair.host_index, mode=1)


def remove_link(ipr: IPRoute, name: str) -> bool:
    """Delete a veth end by name in ``ipr``'s namespace (its peer goes with it); False if it was not there."""
    index = link_index(ipr, name)
    if index is None:
        return False
    try:
        ipr.link("del", index=index)
    except NetlinkError as exc:
        if exc.code not in (errno.ENODEV, errno.ENOENT):
            raise
        return False
    return True
