"""Checkpoint 6 (book 6.4, 6.6): CSIStorageCapacity follows each node's free space, and the scheduler
uses it: a claim that does not fit a node is not placed there, one that fits no node waits."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube, pods
from kubelab_labkit.waiting import eventually

from .csilab import MiB, bound_pv, capacity_of, pod_node, pod_with, pv_node, pvc


def test_06_capacity_tracking_steers_scheduling(
    kubectl: Kubectl, namespace: str, driver: str, workers: list[str]
) -> None:
    """A claim filling most of one node lowers that node's CSIStorageCapacity; a 400 MiB claim then goes
    to the other node; a 64 GiB claim fits neither and its pod stays Pending with the scheduler's reason.

    Hint (6.6): the provisioner polls GetCapacity (every 10 s here) per node and StorageClass; the
    driver reports the pool's free space less what its volumes may still write
    (kubelab_csi/storage/pool.py). `kubectl -n kubelab-csi get csistoragecapacities -o wide`.
    """
    full = pod_node(kubectl, namespace, "reader")
    other = next(w for w in workers if w != full)
    before = capacity_of(kubectl, full)
    fill = (before - 150 * MiB) // MiB
    kube.apply(
        kubectl, pvc("filler", namespace, f"{fill}Mi"), pod_with("filler", namespace, driver, "filler", node=full)
    )
    pods.wait_phase(kubectl, namespace, "filler", {"Running"}, timeout=180)
    assert pv_node(bound_pv(kubectl, namespace, "filler")) == full

    def lowered() -> int:
        now = capacity_of(kubectl, full)
        assert now < 200 * MiB, f"{full} still reports {now // MiB} MiB (was {before // MiB} MiB)"
        return now + 1

    eventually(lowered, timeout=60, interval=2, what=f"{full}'s CSIStorageCapacity below 200 MiB")

    kube.apply(kubectl, pvc("elsewhere", namespace, "400Mi"), pod_with("elsewhere", namespace, driver, "elsewhere"))
    pods.wait_phase(kubectl, namespace, "elsewhere", {"Running"}, timeout=180)
    assert pod_node(kubectl, namespace, "elsewhere") == other, "the full node was not skipped"

    kube.apply(kubectl, pvc("too-big", namespace, "64Gi"), pod_with("too-big", namespace, driver, "too-big"))

    def refused() -> str:
        conditions = kubectl.json("-n", namespace, "get", "pod", "too-big")["status"].get("conditions") or []
        scheduled = next((c for c in conditions if c["type"] == "PodScheduled"), {})
        assert scheduled.get("status") == "False", conditions
        message = str(scheduled.get("message", ""))
        assert "enough free storage" in message, message
        return message

    eventually(refused, timeout=60, interval=1, what="the scheduler's refusal of the 64 GiB claim")
    assert kubectl.json("-n", namespace, "get", "pvc", "too-big")["status"]["phase"] == "Pending"
