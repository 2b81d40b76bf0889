"""Checkpoint 5 (the scheduler and extended resources): a pod asking for more accelerators than a
node has stays Pending, with the scheduler's reason."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube
from kubelab_labkit.waiting import eventually

from .devicelab import RESOURCE, SEED_COUNT, accelerator_pod


def test_05_too_many_stays_pending(kubectl: Kubectl, namespace: str, plugin: str, workers: list[str]) -> None:
    """Five on a node of four: FailedScheduling, `Insufficient kubelab.dev/accelerator`.

    Hint (Chapter 9): the scheduler's NodeResourcesFit compares requests with allocatable;
    `kubectl -n kubelab-kubelet-lab describe pod greedy`.
    """
    kube.apply(kubectl, accelerator_pod("greedy", namespace, plugin, workers[0], SEED_COUNT + 1))

    def refused() -> str:
        pod = kubectl.json("-n", namespace, "get", "pod", "greedy")
        assert pod["status"].get("phase") == "Pending", pod["status"]
        conditions = {c["type"]: c for c in pod["status"].get("conditions", [])}
        message = conditions.get("PodScheduled", {}).get("message", "")
        assert f"Insufficient {RESOURCE}" in message, message or pod["status"]
        return str(message)

    eventually(refused, timeout=60, interval=1, what="the scheduler's reason on pod greedy")
    kubectl.run("-n", namespace, "delete", "pod", "greedy", "--wait=true")
