"""Checkpoint 21 (patching the kubelet: what the ratio is for): the scheduler places a pod by the
scaled capacity; on the other worker the same pod does not fit."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube, pods
from kubelab_labkit.nodes import workers as worker_names
from kubelab_labkit.waiting import eventually

from .conftest import PatchedNode
from .kubeletlab import milli_cpu, node_status


def cpu_pod(name: str, namespace: str, image: str, node: str, millis: int) -> dict[str, object]:
    obj = pods.pod(name, namespace, image, ["sleep", "3600"], node_selector={"kubernetes.io/hostname": node},
                   labels={"kubelab.dev/checkpoint": "patched-kubelet"})  # fmt: skip
    obj["spec"]["containers"][0]["resources"] = {"requests": {"cpu": f"{millis}m"}}  # type: ignore[index]
    return obj


def test_21_scheduled_by_the_new_capacity(
    kubectl: Kubectl, namespace: str, component_image: str, patched_kubelet: PatchedNode
) -> None:
    """A pod asking for more CPU than the machine has (1.5 times the unpatched allocatable) runs on the
    worker with the ratio; on the other worker it stays Pending with the scheduler's reason
    (Insufficient cpu).

    Hint (Chapter 9, patching the kubelet; Chapter 8's Filter): the scheduler and the kubelet's own
    admission both read the node's allocatable, which the ratio scaled.
    """
    node = patched_kubelet.name
    (other,) = [n for n in worker_names(kubectl) if n != node]
    millis = milli_cpu(patched_kubelet.allocatable["cpu"]) * 3 // 2
    assert milli_cpu(node_status(kubectl, node)["allocatable"]["cpu"]) > millis, "checkpoint 19's ratio is not in place"
    kube.apply(kubectl, cpu_pod("big", namespace, component_image, node, millis))
    running = pods.wait_phase(kubectl, namespace, "big", {"Running"}, timeout=120)
    assert running["spec"]["nodeName"] == node
    kube.apply(kubectl, cpu_pod("big-elsewhere", namespace, component_image, other, millis))

    def insufficient() -> str:
        events = kube.events(kubectl, namespace, "big-elsewhere")
        assert "FailedScheduling" in events and "Insufficient cpu" in events, events
        return events

    eventually(insufficient, timeout=60, interval=2, what="big-elsewhere unschedulable")
    kubectl.run("-n", namespace, "delete", "pods", "big", "big-elsewhere", "--wait=true")
