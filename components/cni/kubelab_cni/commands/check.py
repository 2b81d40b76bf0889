"""CHECK: the attachment described by prevResult is still in place (code 103 if not)."""

from __future__ import annotations

import ipaddress
from typing import Any

from kubelab_cni import config, masquerade, netns, veth
from kubelab_cni.ipam.allocator import Allocator
from kubelab_cni.locks import attachment_lock
from kubelab_cni.netlink import IPRoute, host, inside, link_attrs, link_index
from kubelab_cni.protocol import CniError, Code, Invocation, Outcome


def _fail(msg: str, details: str = "") -> CniError:
    return CniError(Code.CHECK_FAILED, msg, details)


def check(inv: Invocation, stdin: bytes) -> Outcome:
    conf = config.load(stdin)
    if conf.prev_result is None:
        raise CniError(Code.INVALID_CONFIG, "CHECK needs prevResult", "the runtime must pass the result of the ADD")
    prev = conf.prev_result
    interfaces: list[dict[str, Any]] = list(prev.get("interfaces") or [])
    mine = next((i for i, itf in enumerate(interfaces) if itf.get("name") == inv.ifname and itf.get("sandbox")), None)
    if mine is None:
        raise _fail(f"prevResult lists no interface {inv.ifname} in a sandbox")
    expected_ips = [
        ipaddress.ip_interface(ip["address"]) for ip in prev.get("ips") or [] if ip.get("interface") == mine
    ]
    with attachment_lock(inv.container_id), netns.opened(inv.netns) as fd:
        with inside(fd) as c:
            _check_container(c, inv.ifname, interfaces[mine].get("mac"), expected_ips)
        with host() as h:
            _check_host(h, conf, inv)
        if conf.ipam is not None:
            with Allocator(conf.ipam, conf.name).store.locked() as store:
                held = {r.address for r in store.by_attachment(inv.container_id, inv.ifname)}
            missing = [str(ip.ip) for ip in expected_ips if ip.ip not in held]
            if missing:
                raise _fail("IP reservation missing", f"{', '.join(missing)} not reserved for {inv.container_id}")
        if conf.ip_masq:
            tag = masquerade.Tag(conf.name, inv.container_id, inv.ifname)
            for version in sorted({ip.version for ip in expected_ips}):
                with masquerade.Masquerade(version) as m:
                    if not m.rules(lambda t: t == tag):
                        raise _fail("masquerade rule missing", tag.comment())
    return Outcome.success(None)


def _check_container(c: IPRoute, ifname: str, mac: str | None, expected: list[Any]) -> None:
    index = link_index(c, ifname)
    if index is None:
        raise _fail(f"interface {ifname} is missing from the container")
    attrs = link_attrs(c, index)
    if mac and attrs["mac"].lower() != mac.lower():
        raise _fail(f"interface {ifname} has MAC {attrs['mac']}, prevResult says {mac}")
    if not attrs["up"]:
        raise _fail(f"interface {ifname} is down")
    present = {ipaddress.ip_interface(f"{m.get('IFA_ADDRESS')}/{m['prefixlen']}") for m in c.addr("dump", index=index)}
    missing = [str(ip) for ip in expected if ip not in present]
    if missing:
        raise _fail(f"address missing on {ifname}", ", ".join(missing))


def _check_host(h: IPRoute, conf: config.NetConf, inv: Invocation) -> None:
    name = veth.host_name(inv.container_id, inv.ifname)
    index = link_index(h, name)
    if index is None:
        raise _fail(f"host veth {name} is missing")
    bridge = link_index(h, conf.bridge)
    if bridge is None:
        raise _fail(f"bridge {conf.bridge} is missing")
    attrs = link_attrs(h, index)
    if attrs["master"] != bridge:
        raise _fail(f"host veth {name} is not attached to {conf.bridge}")
