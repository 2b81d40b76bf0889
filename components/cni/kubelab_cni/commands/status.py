"""STATUS: ready for ADD? Code 50 if an address range is exhausted or the store is unusable."""

from __future__ import annotations

from kubelab_cni import config
from kubelab_cni.ipam.allocator import Allocator
from kubelab_cni.protocol import CniError, Code, Outcome


def status(stdin: bytes) -> Outcome:
    conf = config.load(stdin)
    if conf.ipam is None:
        return Outcome.success(None)
    allocator = Allocator(conf.ipam, conf.name)
    try:
        free = allocator.free_count()
    except OSError as exc:
        raise CniError(Code.PLUGIN_NOT_AVAILABLE, "IPAM store unusable", f"{allocator.store.directory}: {exc}") from exc
    exhausted = [str(i) for i, n in enumerate(free) if n <= 0]
    if exhausted:
        raise CniError(
            Code.PLUGIN_NOT_AVAILABLE, "no free IP addresses", f"range set(s) {', '.join(exhausted)} exhausted"
        )
    return Outcome.success(None)
