"""The node-side bridge: create it once, give it the gateway address, keep it up."""

from __future__ import annotations

import errno
import ipaddress
import os
from typing import Any

from kubelab_cni import netns
from kubelab_cni.netlink import IPRoute, NetlinkError, link_by_name
from kubelab_cni.protocol import CniError, Code

IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface


def _random_mac() -> str:
    octets = bytearray(os.urandom(6))
    octets[0] = (octets[0] & 0xFE) | 0x02  # unicast, locally administered
    return ":".join(f"{b:02x}" for b in octets)


def ensure_bridge(ipr: IPRoute, name: str, mtu: int | None, promisc: bool) -> dict[str, Any]:
    """The bridge's attributes (``index``, ``mac``...), creating it if needed; concurrent creators are fine."""
    attrs = link_by_name(ipr, name)
    if attrs is None:
        # A fixed MAC of its own: otherwise the bridge takes its lowest port's MAC and changes it
        # as pods come and go, which breaks the pods' ARP entries for the gateway.
        spec: dict[str, object] = {"ifname": name, "kind": "bridge", "address": _random_mac()}
        if mtu:
            spec["mtu"] = mtu
        try:
            ipr.link("add", **spec)
        except NetlinkError as exc:
            if exc.code != errno.EEXIST:
                raise CniError(Code.NETLINK_FAILURE, f"cannot create bridge {name}", str(exc)) from exc
        attrs = link_by_name(ipr, name)
        if attrs is None:
            raise CniError(Code.NETLINK_FAILURE, f"bridge {name} vanished right after it was created")
    if attrs["kind"] != "bridge":
        raise CniError(Code.INVALID_CONFIG, f"{name} already exists but is not a bridge", f"kind={attrs['kind']}")
    index = attrs["index"]
    if not attrs["up"]:
        ipr.link("set", index=index, state="up")
    if promisc:
        ipr.link("set", index=index, flags=0x100, mask=0x100)  # IFF_PROMISC
    return attrs


def ensure_gateway(ipr: IPRoute, bridge: int, gateway: IPInterface, force: bool) -> None:
    """Put ``gateway`` (address/prefix of the pod subnet) on the bridge.

    Another address of the same family in the same subnet is refused unless ``forceAddress``
    is set, in which case it is replaced.
    """
    family = 2 if gateway.version == 4 else 10
    present = [
        ipaddress.ip_interface(f"{m.get('IFA_ADDRESS')}/{m['prefixlen']}")
        for m in ipr.addr("dump", index=bridge, family=family)
    ]
    if gateway in present:
        return
    clashing = [p for p in present if p.network.overlaps(gateway.network)]
    if clashing and not force:
        raise CniError(
            Code.INVALID_CONFIG,
            "bridge already has a different address in the pod subnet",
            f"has {', '.join(map(str, clashing))}, want {gateway}; set forceAddress to replace it",
        )
    for old in clashing:
        ipr.addr("del", index=bridge, address=str(old.ip), prefixlen=old.network.prefixlen)
    try:
        ipr.addr("add", index=bridge, address=str(gateway.ip), prefixlen=gateway.network.prefixlen)
    except NetlinkError as exc:
        if exc.code != errno.EEXIST:
            raise CniError(Code.NETLINK_FAILURE, f"cannot add {gateway} to the bridge", str(exc)) from exc


def enable_forwarding(version: int) -> None:
    """A gateway bridge routes pod traffic: turn on forwarding in the node namespace."""
    name = "net.ipv4.ip_forward" if version == 4 else "net.ipv6.conf.all.forwarding"
    if netns.read_sysctl(name) != "1":
        netns.write_sysctl(name, "1")
