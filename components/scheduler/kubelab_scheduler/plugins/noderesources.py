"""NodeResourcesFit and NodeResourcesBalancedAllocation (upstream ``plugins/noderesources``).

Fit: the node must have room for the pod's request of every resource it asks for (cpu,
memory, ephemeral storage, extended resources such as ``example.com/gpu``) and a pod slot
("Too many pods"). The reasons are upstream's: "Insufficient cpu", "Insufficient example.com/gpu".
Fit also scores, by its ``scoringStrategy``: LeastAllocated (default: spread) or
MostAllocated (pack), over cpu and memory with weight 1 each unless configured.

BalancedAllocation scores nodes whose cpu and memory would be used in equal fractions higher:
``(1 - standard deviation of the fractions) * 100``.

Scoring counts the pods' non-zero requests (100m and 200 MiB for a container that asks none).
"""

from __future__ import annotations

import math
from typing import Any

from kubelab_scheduler.framework.interface import MAX_NODE_SCORE, CycleState, Pod, PreFilterResult
from kubelab_scheduler.framework.runtime import Handle
from kubelab_scheduler.framework.status import Status
from kubelab_scheduler.nodeinfo import NodeInfo
from kubelab_scheduler.resources import CPU, MEMORY, PODS, Resources, non_zero_requests, pod_requests

STATE = "NodeResourcesFit/request"
TOO_MANY_PODS = "Too many pods"


def _request(state: CycleState, pod: Pod) -> Resources:
    found = state.get(STATE)
    if found is None:
        found = state[STATE] = pod_requests(pod)
    assert isinstance(found, Resources)
    return found


def insufficient(request: Resources, node: NodeInfo) -> list[str]:
    """The resources the node lacks for ``request`` (upstream ``fitsRequest``), in a stable order."""
    reasons = []
    if node.pod_count() + 1 > node.allowed_pods():
        reasons.append(TOO_MANY_PODS)
    allocatable = node.allocatable
    for name in sorted(request.names()):
        want = request.get(name)
        if name == PODS or want <= 0:
            continue
        if want > allocatable.get(name) - node.requested.get(name):
            reasons.append(f"Insufficient {name}")
    return reasons


def _used_with(node: NodeInfo, pod: Pod) -> dict[str, tuple[int, int]]:
    """(requested with the pod, allocatable) for cpu and memory, by non-zero requests."""
    cpu, memory = non_zero_requests(pod)
    allocatable = node.allocatable
    return {
        CPU: (node.non_zero_cpu + cpu, allocatable.get(CPU)),
        MEMORY: (node.non_zero_memory + memory, allocatable.get(MEMORY)),
    }


class NodeResourcesFit:
    name = "NodeResourcesFit"

    def __init__(self, args: dict[str, Any], handle: Handle) -> None:
        strategy = args.get("scoringStrategy") or {}
        self.strategy = str(strategy.get("type") or "LeastAllocated")
        if self.strategy not in ("LeastAllocated", "MostAllocated"):
            raise ValueError(f"NodeResourcesFit: scoringStrategy.type {self.strategy!r} (LeastAllocated|MostAllocated)")
        resources = strategy.get("resources") or [{"name": CPU, "weight": 1}, {"name": MEMORY, "weight": 1}]
        self.weights = {str(r["name"]): int(r.get("weight") or 1) for r in resources}

    def pre_filter(self, state: CycleState, pod: Pod, nodes: list[NodeInfo]) -> tuple[PreFilterResult | None, Status]:
        state[STATE] = pod_requests(pod)
        return None, Status()

    def filter(self, state: CycleState, pod: Pod, node: NodeInfo) -> Status:
        reasons = insufficient(_request(state, pod), node)
        return Status.unschedulable(*reasons) if reasons else Status()

    def score(self, state: CycleState, pod: Pod, node: NodeInfo) -> tuple[int, Status]:
        used = _used_with(node, pod)
        total = weights = 0
        for name, weight in self.weights.items():
            if name not in used:
                continue
            requested, allocatable = used[name]
            if allocatable <= 0:
                continue
            requested = min(requested, allocatable)
            free = (allocatable - requested) * MAX_NODE_SCORE // allocatable
            total += weight * (free if self.strategy == "LeastAllocated" else MAX_NODE_SCORE - free)
            weights += weight
        return (total // weights if weights else 0), Status()

    def events_to_register(self) -> set[str]:
        return {"NodeAdd", "NodeUpdate", "AssignedPodDelete"}


class NodeResourcesBalancedAllocation:
    name = "NodeResourcesBalancedAllocation"

    def __init__(self, args: dict[str, Any], handle: Handle) -> None:
        pass

    def score(self, state: CycleState, pod: Pod, node: NodeInfo) -> tuple[int, Status]:
        fractions = [min(1.0, requested / allocatable) for requested, allocatable in _used_with(node, pod).values()
                     if allocatable > 0]  # fmt: skip
        if len(fractions) < 2:
            return 0, Status()
        mean = sum(fractions) / len(fractions)
        std = math.sqrt(sum((f - mean) ** 2 for f in fractions) / len(fractions))
        return int((1 - std) * MAX_NODE_SCORE), Status()
