"""A node with the pods on it and what they request (upstream ``framework.NodeInfo``).

The cache keeps one per node; a scheduling cycle works on copies (the snapshot), so it never
sees a node change under it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubelab_scheduler import pods
from kubelab_scheduler.resources import PODS, Resources, non_zero_requests, pod_requests

Node = Mapping[str, Any]


@dataclass
class NodeInfo:
    node: Node
    pods: dict[str, Mapping[str, Any]] = field(default_factory=dict)  # by namespace/name
    requested: Resources = field(default_factory=Resources)
    non_zero_cpu: int = 0
    non_zero_memory: int = 0

    @property
    def name(self) -> str:
        return str((self.node.get("metadata") or {}).get("name") or "")

    @property
    def labels(self) -> dict[str, str]:
        return dict((self.node.get("metadata") or {}).get("labels") or {})

    @property
    def allocatable(self) -> Resources:
        return Resources.of((self.node.get("status") or {}).get("allocatable"))

    @property
    def taints(self) -> list[dict[str, Any]]:
        return list((self.node.get("spec") or {}).get("taints") or [])

    @property
    def unschedulable(self) -> bool:
        return bool((self.node.get("spec") or {}).get("unschedulable"))

    def add_pod(self, pod: Mapping[str, Any]) -> None:
        k = pods.key(pod)
        if k in self.pods:
            self.remove_pod(self.pods[k])
        self.pods[k] = pod
        self.requested.add(pod_requests(pod))
        cpu, memory = non_zero_requests(pod)
        self.non_zero_cpu += cpu
        self.non_zero_memory += memory

    def remove_pod(self, pod: Mapping[str, Any]) -> bool:
        old = self.pods.pop(pods.key(pod), None)
        if old is None:
            return False
        self.requested.subtract(pod_requests(old))
        cpu, memory = non_zero_requests(old)
        self.non_zero_cpu -= cpu
        self.non_zero_memory -= memory
        return True

    def pod_count(self) -> int:
        return len(self.pods)

    def allowed_pods(self) -> int:
        return self.allocatable.get(PODS)

    def copy(self) -> NodeInfo:
        return NodeInfo(self.node, dict(self.pods), self.requested.copy(), self.non_zero_cpu, self.non_zero_memory)
