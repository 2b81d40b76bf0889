"""DEL: idempotent and best effort; a missing namespace, interface or reservation is fine."""

from __future__ import annotations

from kubelab_cni import config, masquerade, netns, veth
from kubelab_cni.ipam.allocator import Allocator
from kubelab_cni.locks import attachment_lock
from kubelab_cni.netlink import NetlinkError, host, inside
from kubelab_cni.protocol import CniError, Code, Invocation, Outcome


def delete(inv: Invocation, stdin: bytes) -> Outcome:
    conf = config.load(stdin)
    allocator = Allocator(conf.ipam, conf.name) if conf.ipam else None
    errors: list[str] = []
    with attachment_lock(inv.container_id):
        if netns.exists(inv.netns):
            try:
                with netns.opened(inv.netns) as fd, inside(fd) as c:
                    veth.remove_link(c, inv.ifname)
            except CniError:
                pass  # not (or no longer) a network namespace: nothing of ours inside
            except (OSError, NetlinkError) as exc:
                errors.append(f"container side: {exc}")
        try:
            with host() as h:
                veth.remove_link(h, veth.host_name(inv.container_id, inv.ifname))
        except (OSError, NetlinkError) as exc:
            errors.append(f"host veth: {exc}")
        if conf.ip_masq:
            try:
                masquerade.remove_attachment(conf.name, inv.container_id, inv.ifname)
            except (OSError, NetlinkError) as exc:
                errors.append(f"masquerade: {exc}")
        if allocator is not None:
            allocator.release(inv.container_id, inv.ifname)
    if errors:
        raise CniError(Code.IO_FAILURE, "DEL could not remove everything", "; ".join(errors))
    return Outcome.success(None)
