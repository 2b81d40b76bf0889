"""GC: remove every resource of this network whose attachment is not in cni.dev/valid-attachments.

Reservations, NAT rules and host veths (found by their alias) of stale attachments go; errors
are collected and reported after doing as much as possible.
"""

from __future__ import annotations

from kubelab_cni import config, masquerade, veth
from kubelab_cni.ipam.allocator import Allocator
from kubelab_cni.netlink import NetlinkError, host, link_attrs
from kubelab_cni.protocol import CniError, Code, Outcome


def gc(stdin: bytes) -> Outcome:
    conf = config.load(stdin)
    if conf.valid_attachments is None:
        raise CniError(Code.INVALID_CONFIG, "GC needs cni.dev/valid-attachments")
    valid = {(a.container_id, a.ifname) for a in conf.valid_attachments}
    errors: list[str] = []
    if conf.ipam is not None:
        try:
            Allocator(conf.ipam, conf.name).garbage_collect(valid)
        except OSError as exc:
            errors.append(f"IPAM: {exc}")
    try:
        with host() as h:
            for msg in h.link("dump"):
                owner = veth.parse_alias(msg.get("IFLA_IFALIAS"))
                if owner is None or owner[0] != conf.name or (owner[1], owner[2]) in valid:
                    continue
                name = link_attrs(h, msg["index"])["name"]
                veth.remove_link(h, name)
    except (OSError, NetlinkError) as exc:
        errors.append(f"veths: {exc}")
    for version in (4, 6):
        try:
            with masquerade.Masquerade(version) as m:
                m.remove(lambda t: t.network == conf.name and (t.container_id, t.ifname) not in valid)
        except (OSError, NetlinkError) as exc:
            errors.append(f"masquerade (IPv{version}): {exc}")
    if errors:
        raise CniError(Code.IO_FAILURE, "GC could not remove everything", "; ".join(errors))
    return Outcome.success(None)
