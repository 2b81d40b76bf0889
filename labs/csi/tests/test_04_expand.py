"""Checkpoint 4 (book 6.4, 6.7): a claim grows while its pod runs."""

from __future__ import annotations

import json

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.waiting import eventually

from .csilab import exec_sh


def test_04_online_expansion_is_visible_in_the_pod(kubectl: Kubectl, namespace: str, driver: str) -> None:
    """The claim of checkpoint 2 is patched from 64 to 160 MiB while mounted: the PVC reports 160Mi and
    the pod can write 120 MiB, which the old size refused.

    Hint (6.4): the resizer sets the PV's size; the kubelet then calls NodeExpandVolume on the node
    with the new capacity_range, which raises the subvolume's limit. `kubectl -n kubelab-csi-lab describe
    pvc data` (conditions FileSystemResizePending, events) and the driver's log.
    """
    patch = json.dumps({"spec": {"resources": {"requests": {"storage": "160Mi"}}}})
    kubectl.run("-n", namespace, "patch", "pvc", "data", "--type=merge", "-p", patch)

    def grown() -> bool:
        status = kubectl.json("-n", namespace, "get", "pvc", "data")["status"]
        assert status.get("capacity", {}).get("storage") == "160Mi", status
        return True

    eventually(grown, timeout=120, interval=1, what="PVC data at 160Mi")
    out = exec_sh(
        kubectl, namespace, "reader", "dd if=/dev/zero of=/data/big bs=1M count=120 conv=fsync 2>&1; echo exit=$?"
    )
    assert "exit=0" in out, out
    exec_sh(kubectl, namespace, "reader", "rm /data/big && sync")
