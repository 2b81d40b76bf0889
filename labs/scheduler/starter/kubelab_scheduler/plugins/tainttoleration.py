"""STARTER (chapter 8.3): one TODO below, marked ``TODO(8.3)``. Everything else works.

TaintToleration: a NoSchedule or NoExecute taint the pod does not tolerate keeps it off the
node; untolerated PreferNoSchedule taints lower the node's score (fewer is better)."""

from __future__ import annotations

from typing import Any

from kubelab_scheduler.framework.interface import MAX_NODE_SCORE, CycleState, Pod
from kubelab_scheduler.framework.runtime import Handle
from kubelab_scheduler.framework.status import Status
from kubelab_scheduler.nodeinfo import NodeInfo
from kubelab_scheduler.plugins.tolerations import pod_tolerations, tolerated


def normalize_reverse(scores: dict[str, int]) -> None:
    """Upstream's ``DefaultNormalizeScore(reverse=true)``: the highest raw score gets 0, none gets 100."""
    top = max(scores.values(), default=0)
    for name, value in scores.items():
        scores[name] = MAX_NODE_SCORE if top == 0 else MAX_NODE_SCORE - value * MAX_NODE_SCORE // top


UNTOLERATED = "node(s) had untolerated taint(s)"  # kube-scheduler 1.37's words (older ones named the taint)


class TaintToleration:
    name = "TaintToleration"

    def __init__(self, args: dict[str, Any], handle: Handle) -> None:
        pass

    def filter(self, state: CycleState, pod: Pod, node: NodeInfo) -> Status:
        # A NoSchedule or NoExecute taint of the node (node.taints) that none of the pod's tolerations
        # (pod_tolerations(pod)) tolerates (tolerated(...)) keeps the pod off: Status.unschedulable(reason,
        # resolvable=False) with upstream's reason (UNTOLERATED; 1.37 no longer names the taint).
        return Status()  # TODO(8.3): every node accepted, even the tainted control plane

    def score(self, state: CycleState, pod: Pod, node: NodeInfo) -> tuple[int, Status]:
        tolerations = pod_tolerations(pod)
        count = sum(1 for t in node.taints if t.get("effect") == "PreferNoSchedule" and not tolerated(tolerations, t))
        return count, Status()

    def normalize(self, state: CycleState, pod: Pod, scores: dict[str, int]) -> Status:
        normalize_reverse(scores)
        return Status()

    def events_to_register(self) -> set[str]:
        return {"NodeAdd", "NodeUpdate"}
