"""Nodes and pods for the tests, as the API server would send them."""

from __future__ import annotations

from typing import Any

from kubelab_scheduler.nodeinfo import NodeInfo

SCHEDULER = "kubelab-scheduler"


def node(
    name: str,
    cpu: str = "4",
    memory: str = "8Gi",
    pods: int = 110,
    *,
    labels: dict[str, str] | None = None,
    taints: list[dict[str, str]] | None = None,
    unschedulable: bool = False,
    **extra: str,
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": {"taints": taints or [], "unschedulable": unschedulable},
        "status": {
            "allocatable": {"cpu": cpu, "memory": memory, "pods": str(pods), **extra},
            "capacity": {"cpu": cpu, "memory": memory, "pods": str(pods), **extra},
        },
    }


def pod(
    name: str,
    cpu: str | None = "100m",
    memory: str | None = None,
    *,
    namespace: str = "default",
    node_name: str = "",
    labels: dict[str, str] | None = None,
    priority: int = 0,
    **spec: Any,
) -> dict[str, Any]:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    requests.update(spec.pop("requests", {}))
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}, "uid": f"uid-{name}"},
        "spec": {
            "schedulerName": SCHEDULER,
            "priority": priority,
            "containers": [{"name": "c", "image": "x", "resources": {"requests": requests}}],
            **spec,
        },
    }
    if node_name:
        body["spec"]["nodeName"] = node_name
    return body


def info(n: dict[str, Any], *pods_on_it: dict[str, Any]) -> NodeInfo:
    ni = NodeInfo(n)
    for p in pods_on_it:
        ni.add_pod(p)
    return ni
