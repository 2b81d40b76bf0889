"""NodeAffinity: ``spec.nodeSelector`` and required node affinity must match the node's labels;
preferred node affinity adds its terms' weights to the score (normalized to 0-100)."""

from __future__ import annotations

from typing import Any

from kubelab_scheduler.framework.interface import MAX_NODE_SCORE, CycleState, Pod
from kubelab_scheduler.framework.runtime import Handle
from kubelab_scheduler.framework.status import Status
from kubelab_scheduler.nodeinfo import NodeInfo
from kubelab_scheduler.selectors import node_selector_term_matches

REASON = "node(s) didn't match Pod's node affinity/selector"


def _affinity(pod: Pod) -> dict[str, Any]:
    return dict(((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {})


def required_matches(pod: Pod, node: NodeInfo) -> bool:
    """nodeSelector (every label) and the required terms (any one), as upstream's ``GetRequiredNodeAffinity``."""
    labels = node.labels
    for key, value in ((pod.get("spec") or {}).get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False
    required = _affinity(pod).get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is None:
        return True
    terms = required.get("nodeSelectorTerms") or []
    return any(node_selector_term_matches(t, labels, node.name) for t in terms)


def normalize_max(scores: dict[str, int]) -> None:
    """Upstream's ``DefaultNormalizeScore(reverse=false)``: scaled so that the highest gets 100."""
    top = max(scores.values(), default=0)
    for name, value in scores.items():
        scores[name] = 0 if top == 0 else value * MAX_NODE_SCORE // top


class NodeAffinity:
    name = "NodeAffinity"

    def __init__(self, args: dict[str, Any], handle: Handle) -> None:
        pass

    def filter(self, state: CycleState, pod: Pod, node: NodeInfo) -> Status:
        if not required_matches(pod, node):
            return Status.unschedulable(REASON, resolvable=False)
        return Status()

    def score(self, state: CycleState, pod: Pod, node: NodeInfo) -> tuple[int, Status]:
        total = 0
        for term in _affinity(pod).get("preferredDuringSchedulingIgnoredDuringExecution") or []:
            if node_selector_term_matches(term.get("preference") or {}, node.labels, node.name):
                total += int(term.get("weight") or 0)
        return total, Status()

    def normalize(self, state: CycleState, pod: Pod, scores: dict[str, int]) -> Status:
        normalize_max(scores)
        return Status()

    def events_to_register(self) -> set[str]:
        return {"NodeAdd", "NodeUpdate"}
