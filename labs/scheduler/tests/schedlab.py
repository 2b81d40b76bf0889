"""What only the scheduler lab's checkpoints need: deploying kubelab-scheduler
(components/scheduler/deploy), pods for it, the nodes' free room, and what the scheduler said."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_cluster.pins import repo_root
from kubelab_labkit import kube, manifests
from kubelab_labkit.namespaces import MakeNamespace
from kubelab_labkit.nodes import workers
from kubelab_scheduler.gang.podgroups import LABEL
from kubelab_scheduler.resources import CPU, amount, pod_requests

SYSTEM_NS = "kubelab-scheduler-system"
SCHEDULER = "kubelab-scheduler"
EXTENDER = "kubelab-extender"
# the resource the cluster's kube-scheduler asks the extender about (cluster/kube-scheduler.yaml)
EXTENDER_RESOURCE = "kubelab.dev/extender"
CRD = repo_root() / "components" / "scheduler" / "deploy" / "podgroup-crd.yaml"
PAUSE = "registry.k8s.io/pause:3.10.2"  # in the node image: no pull


def deploy(kubectl: Kubectl, image: str) -> None:
    kubectl.run("apply", "-f", str(CRD))
    kube.wait_for(kubectl, "crd/podgroups.scheduling.kubelab.dev", "condition=Established", timeout=60)
    manifests.apply_component(kubectl, "scheduler", "scheduler.yaml", IMAGE=image)
    kube.rollout(kubectl, "deployment/kubelab-scheduler", namespace=SYSTEM_NS, timeout=180)


def deploy_extender(kubectl: Kubectl, image: str) -> None:
    manifests.apply_component(kubectl, "scheduler", "extender.yaml", IMAGE=image)
    kube.rollout(kubectl, f"deployment/{EXTENDER}", namespace=SYSTEM_NS, timeout=180)


def extender_pod(name: str, namespace: str) -> dict[str, Any]:
    """A pause pod for the cluster's kube-scheduler that asks for the extender's marker resource."""
    obj = pod(name, namespace)
    obj["spec"]["schedulerName"] = "default-scheduler"
    marker = {EXTENDER_RESOURCE: "1"}
    resources = obj["spec"]["containers"][0]["resources"]
    resources["requests"].update(marker)
    resources["limits"] = marker
    return obj


def on_workers(kubectl: Kubectl) -> dict[str, Any]:
    """Required node affinity to the worker nodes (so topology spread counts only them)."""
    names = workers(kubectl)
    term = {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": names}]}
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}


def pod(
    name: str,
    namespace: str,
    cpu: str = "10m",
    *,
    labels: dict[str, str] | None = None,
    gang: str | None = None,
    **spec: Any,
) -> dict[str, Any]:
    """A pause pod for kubelab-scheduler requesting ``cpu``."""
    all_labels = {**(labels or {}), **({LABEL: gang} if gang else {})}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": all_labels},
        "spec": {
            "schedulerName": SCHEDULER,
            "terminationGracePeriodSeconds": 0,
            "containers": [
                {
                    "name": "pause",
                    "image": PAUSE,
                    "imagePullPolicy": "IfNotPresent",
                    "resources": {"requests": {"cpu": cpu, "memory": "8Mi"}},
                }
            ],
            **spec,
        },
    }


def podgroup(name: str, namespace: str, min_member: int, timeout: int = 30) -> dict[str, Any]:
    return {
        "apiVersion": "scheduling.kubelab.dev/v1alpha1",
        "kind": "PodGroup",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"minMember": min_member, "scheduleTimeoutSeconds": timeout},
    }


def all_pods(kubectl: Kubectl) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = kubectl.json("get", "pods", "-A")["items"]
    return items


def pods_in(kubectl: Kubectl, namespace: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = kubectl.json("-n", namespace, "get", "pods")["items"]
    return items


def live(pod_obj: dict[str, Any]) -> bool:
    return (pod_obj.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def requested_cpu(kubectl: Kubectl) -> dict[str, int]:
    """Millicores requested on each node by the pods bound there (every scheduler's)."""
    used: dict[str, int] = {}
    for p in all_pods(kubectl):
        node = p["spec"].get("nodeName")
        if node and live(p):
            used[node] = used.get(node, 0) + pod_requests(p).get(CPU)
    return used


def allocatable_cpu(kubectl: Kubectl) -> dict[str, int]:
    return {
        n["metadata"]["name"]: amount(CPU, n["status"]["allocatable"][CPU])
        for n in kubectl.json("get", "nodes")["items"]
    }


def free_cpu(kubectl: Kubectl) -> dict[str, int]:
    used, allocatable = requested_cpu(kubectl), allocatable_cpu(kubectl)
    return {name: allocatable[name] - used.get(name, 0) for name in allocatable}


def events(kubectl: Kubectl, namespace: str, reason: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = kubectl.json("-n", namespace, "get", "events.events.k8s.io")["items"]
    return [e for e in items if e.get("reason") == reason]


def notes(kubectl: Kubectl, namespace: str, pod_name: str, reason: str = "FailedScheduling") -> list[str]:
    return [e.get("note", "") for e in events(kubectl, namespace, reason) if e["regarding"]["name"] == pod_name]


def create_all(kubectl: Kubectl, objs: list[dict[str, Any]]) -> None:
    kubectl.run("create", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": objs}), timeout=300)


def lease_holder(kubectl: Kubectl) -> str:
    lease = kubectl.json("-n", SYSTEM_NS, "get", "lease", SCHEDULER)
    return str(lease["spec"].get("holderIdentity") or "").rsplit("_", 1)[0]


@contextmanager
def scratch(kubectl: Kubectl, make_namespace: MakeNamespace, name: str) -> Iterator[str]:
    """A namespace whose pods are gone (with it) when the block ends: the room goes back to the next checkpoint."""
    ns = make_namespace(name)
    try:
        yield ns
    finally:
        kubectl.run("delete", "namespace", ns, "--wait=true", "--timeout=240s", timeout=260)
