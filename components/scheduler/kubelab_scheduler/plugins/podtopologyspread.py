"""PodTopologySpread: ``spec.topologySpreadConstraints`` (upstream ``plugins/podtopologyspread``).

For each constraint, pods in the pod's namespace that match its ``labelSelector`` are counted
per topology domain (the values of ``topologyKey`` on the nodes that have it and that the pod's
node affinity and selector accept: ``nodeAffinityPolicy: Honor``, the default). A node is
infeasible for a ``DoNotSchedule`` constraint when placing the pod there would make
``count(domain) + 1 - min(count)`` exceed ``maxSkew`` (``min`` is 0 while fewer domains than
``minDomains`` exist), or when it lacks the key. ``ScheduleAnyway`` constraints score: fewer
matching pods in the node's domain is better.

Not here: upstream's system default constraints for pods that declare none, and
``matchLabelKeys``; the pod's own labels count as upstream (it matches its own selector).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubelab_scheduler import pods
from kubelab_scheduler.framework.interface import MAX_NODE_SCORE, CycleState, Pod, PreFilterResult
from kubelab_scheduler.framework.runtime import Handle
from kubelab_scheduler.framework.status import Code, Status
from kubelab_scheduler.nodeinfo import NodeInfo
from kubelab_scheduler.plugins.nodeaffinity import required_matches
from kubelab_scheduler.selectors import matches

STATE = "PodTopologySpread/counts"
SCORE_STATE = "PodTopologySpread/score"
SKEW = "node(s) didn't match pod topology spread constraints"
MISSING = "node(s) didn't match pod topology spread constraints (missing required label)"


@dataclass(frozen=True)
class Constraint:
    max_skew: int
    key: str
    hard: bool
    selector: Mapping[str, Any] | None
    min_domains: int

    @classmethod
    def of(cls, c: Mapping[str, Any]) -> Constraint:
        return cls(
            int(c.get("maxSkew") or 1),
            str(c.get("topologyKey") or ""),
            c.get("whenUnsatisfiable", "DoNotSchedule") == "DoNotSchedule",
            c.get("labelSelector"),
            int(c.get("minDomains") or 1),
        )


def constraints(pod: Pod, hard: bool) -> list[Constraint]:
    found = [Constraint.of(c) for c in (pod.get("spec") or {}).get("topologySpreadConstraints") or []]
    return [c for c in found if c.hard == hard]


def _namespace(pod: Pod) -> str:
    return str((pod.get("metadata") or {}).get("namespace") or "")


def count_domains(pod: Pod, cs: list[Constraint], nodes: list[NodeInfo]) -> list[dict[str, int]]:
    """Per constraint, the matching pods in each domain among the eligible nodes."""
    ns = _namespace(pod)
    out: list[dict[str, int]] = []
    for c in cs:
        counts: dict[str, int] = {}
        for node in nodes:
            domain = node.labels.get(c.key)
            if domain is None or not required_matches(pod, node):
                continue
            n = sum(
                1 for p in node.pods.values()
                if _namespace(p) == ns and not pods.is_terminal(p) and matches(c.selector, pods.labels(p))
            )  # fmt: skip
            counts[domain] = counts.get(domain, 0) + n
        out.append(counts)
    return out


class PodTopologySpread:
    name = "PodTopologySpread"

    def __init__(self, args: dict[str, Any], handle: Handle) -> None:
        pass

    def pre_filter(self, state: CycleState, pod: Pod, nodes: list[NodeInfo]) -> tuple[PreFilterResult | None, Status]:
        cs = constraints(pod, hard=True)
        if not cs:
            return None, Status(Code.SKIP)
        state[STATE] = (cs, count_domains(pod, cs, nodes))
        return None, Status()

    def filter(self, state: CycleState, pod: Pod, node: NodeInfo) -> Status:
        cs, counts = state[STATE]
        own = pods.labels(pod)
        for c, per_domain in zip(cs, counts, strict=True):
            domain = node.labels.get(c.key)
            if domain is None:
                return Status.unschedulable(MISSING, resolvable=False)
            lowest = min(per_domain.values(), default=0) if len(per_domain) >= c.min_domains else 0
            self_match = 1 if matches(c.selector, own) else 0
            if per_domain.get(domain, 0) + self_match - lowest > c.max_skew:
                return Status.unschedulable(SKEW)
        return Status()

    def pre_score(self, state: CycleState, pod: Pod, nodes: list[NodeInfo]) -> Status:
        cs = constraints(pod, hard=False)
        if not cs:
            return Status(Code.SKIP)
        state[SCORE_STATE] = (cs, count_domains(pod, cs, nodes))
        return Status()

    def score(self, state: CycleState, pod: Pod, node: NodeInfo) -> tuple[int, Status]:
        cs, counts = state[SCORE_STATE]
        total = 0.0
        for c, per_domain in zip(cs, counts, strict=True):
            domain = node.labels.get(c.key)
            if domain is None:
                continue
            weight = math.log(len(per_domain) + 2)  # upstream: topologies with more domains weigh more
            total += (per_domain.get(domain, 0) + c.max_skew - 1) * weight
        return round(total), Status()

    def normalize(self, state: CycleState, pod: Pod, scores: dict[str, int]) -> Status:
        if not scores:
            return Status()
        top, low = max(scores.values()), min(scores.values())
        for name, value in scores.items():
            scores[name] = MAX_NODE_SCORE if top == 0 else MAX_NODE_SCORE * (top + low - value) // top
        return Status()

    def events_to_register(self) -> set[str]:
        return {"NodeAdd", "NodeUpdate", "AssignedPodAdd", "AssignedPodDelete", "AssignedPodUpdate"}
