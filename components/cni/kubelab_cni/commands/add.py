"""ADD: reserve addresses → create the veth pair → configure both ends → masquerade.

Every step after the reservation is undone if a later one fails, so a failed ADD leaves
nothing. A process killed in between leaves state that DEL (or GC) removes completely:
the reservation is found by (containerID, ifname), the host veth by its derived name
(its peer dies with it), the NAT rule by its comment.
"""

from __future__ import annotations

import errno
import ipaddress
from collections.abc import Mapping

from kubelab_cni import bridge, config, masquerade, netns, veth
from kubelab_cni.commands.plan import plan_addresses
from kubelab_cni.ipam.allocator import Allocation, Allocator
from kubelab_cni.locks import attachment_lock
from kubelab_cni.netlink import IPRoute, NetlinkError, host, inside
from kubelab_cni.protocol import CniError, Code, Invocation, Outcome
from kubelab_cni.result import Interface, parse_prev_result
from kubelab_cni.testhooks import crash_point

_NO_ALLOCATIONS: list[Allocation] = []


def add(inv: Invocation, stdin: bytes, env: Mapping[str, str]) -> Outcome:
    conf = config.load(stdin)
    result = parse_prev_result(conf.prev_result)
    allocator = Allocator(conf.ipam, conf.name) if conf.ipam else None  # validates ranges before any change
    with attachment_lock(inv.container_id), netns.opened(inv.netns) as ns_fd, host() as h, inside(ns_fd) as c:
        allocations = allocator.allocate(inv.container_id, inv.ifname) if allocator else _NO_ALLOCATIONS
        crash_point(env, "reserve")
        try:
            br = bridge.ensure_bridge(h, conf.bridge, conf.mtu, conf.promisc_mode)
            br_index = br["index"]
            if conf.gateway_mode:
                for a in allocations:
                    gw = ipaddress.ip_interface(f"{a.range.gateway}/{a.range.subnet.prefixlen}")
                    bridge.ensure_gateway(h, br_index, gw, conf.force_address)
                    bridge.enable_forwarding(gw.version)
            pair = veth.create(
                h, c, ns_fd, network=conf.name, container_id=inv.container_id, ifname=inv.ifname, mtu=conf.mtu
            )
            crash_point(env, "veth")
            veth.attach(h, pair, br_index, conf.hairpin_mode)
            plan = plan_addresses(conf, allocations, interface=2)
            _configure_container(c, pair.container_index, plan.ips, plan.installed)
            crash_point(env, "configure")
            if conf.ip_masq:
                for a in allocations:
                    with masquerade.Masquerade(a.reservation.address.version) as m:
                        tag = masquerade.Tag(conf.name, inv.container_id, inv.ifname)
                        m.add(tag, a.reservation.address, a.range.subnet)
                crash_point(env, "masquerade")
        except BaseException:
            _undo(h, conf, inv, allocator)
            raise
    result.interfaces = [
        Interface(conf.bridge, br["mac"]),
        Interface(pair.host_name, pair.host_mac),
        Interface(inv.ifname, pair.container_mac, sandbox=inv.netns),
    ]
    result.ips = plan.ips
    result.routes = plan.routes
    dns = conf.dns.model_dump(exclude_defaults=True)
    if dns:
        result.dns = dns
    return Outcome.success(result.document(conf.cni_version))


def _configure_container(c: IPRoute, index: int, ips: list, routes: list) -> None:  # type: ignore[type-arg]
    try:
        for ip in ips:
            c.addr("add", index=index, address=str(ip.address.ip), prefixlen=ip.address.network.prefixlen)
        c.link("set", index=index, state="up")
        for r in routes:
            spec: dict[str, object] = {"dst": str(r.dst), "oif": index}
            if r.gw is not None:
                spec["gateway"] = str(r.gw)
            c.route("add", **spec)
    except NetlinkError as exc:
        if exc.code == errno.EEXIST:
            raise CniError(Code.NETLINK_FAILURE, "address or route already present in the container", str(exc)) from exc
        raise CniError(Code.NETLINK_FAILURE, "cannot configure the container interface", str(exc)) from exc


def _undo(h: IPRoute, conf: config.NetConf, inv: Invocation, allocator: Allocator | None) -> None:
    """Best effort: take back everything this ADD may have made."""
    try:
        veth.remove_link(h, veth.host_name(inv.container_id, inv.ifname))
    finally:
        try:
            if conf.ip_masq:
                masquerade.remove_attachment(conf.name, inv.container_id, inv.ifname)
        finally:
            if allocator is not None:
                allocator.release(inv.container_id, inv.ifname)
