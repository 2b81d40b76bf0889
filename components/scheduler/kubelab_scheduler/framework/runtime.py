"""Runs one profile's plugins at each extension point (upstream ``frameworkruntime``).

Built from a profile of the configuration and the plugin registry: each enabled plugin is
made once, with its ``pluginConfig`` arguments and the :class:`Handle`, and placed at every
point it implements and the profile enables. Scores are normalized per plugin (when it
normalizes) and multiplied by the plugin's weight, as upstream.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubelab_scheduler import pods
from kubelab_scheduler.config import POINTS, Profile, enabled_plugins
from kubelab_scheduler.framework.interface import MAX_NODE_SCORE, CycleState, Pod, PreFilterResult, ScoreNormalizer
from kubelab_scheduler.framework.status import Code, Status
from kubelab_scheduler.framework.waiting import WaitingPod, WaitingPods
from kubelab_scheduler.nodeinfo import NodeInfo

log = logging.getLogger(__name__)

METHOD = {
    "queueSort": "less", "preFilter": "pre_filter", "filter": "filter", "postFilter": "post_filter",
    "preScore": "pre_score", "score": "score", "reserve": "reserve", "permit": "permit", "preBind": "pre_bind",
    "bind": "bind", "postBind": "post_bind",
}  # fmt: skip
SKIP_FILTER = "kubelab/skip-filter"  # state key: pre-filter plugins that skipped
SKIP_SCORE = "kubelab/skip-score"


@dataclass
class Handle:
    """What plugins may use: the API client, the waiting pods, the current snapshot,
    the pods of a PodGroup (``namespace/name``, from the pod informer's index), and ``requeue(event)``
    for the cluster events a plugin watches itself."""

    api: Any = None
    waiting: WaitingPods = field(default_factory=WaitingPods)
    snapshot: Callable[[], Mapping[str, NodeInfo]] = dict
    pods_in_group: Callable[[str], list[Mapping[str, Any]]] = lambda key: []
    requeue: Callable[[str], object] = lambda event: 0  # a cluster event a plugin saw (e.g. PodGroupChange)
    framework_for: Callable[[Mapping[str, Any]], Framework | None] = lambda pod: None  # the pod's profile
    nominate: Callable[[Mapping[str, Any], str], None] = lambda pod, node: None  # room made for pod on node


Factory = Callable[[dict[str, Any], Handle], Any]


def implemented_points(plugin_type: type) -> set[str]:
    return {point for point, method in METHOD.items() if callable(getattr(plugin_type, method, None))}


class Framework:
    def __init__(self, profile: Profile, registry: Mapping[str, tuple[type, Factory]], handle: Handle) -> None:
        self.profile = profile
        self.handle = handle
        implements = {name: implemented_points(t) for name, (t, _f) in registry.items()}
        made: dict[str, Any] = {}
        self.points: dict[str, list[Any]] = {}
        self.weights: dict[str, int] = {}
        for point in POINTS:
            self.points[point] = []
            for name, weight in enabled_plugins(profile, point, implements):
                if name not in made:
                    made[name] = registry[name][1](profile.args(name), handle)
                self.points[point].append(made[name])
                if point == "score":
                    self.weights[name] = weight
        self.plugins = made
        if len(self.points["queueSort"]) != 1:
            raise ValueError(f"profile {profile.scheduler_name}: exactly one queueSort plugin is needed")

    @property
    def scheduler_name(self) -> str:
        return self.profile.scheduler_name

    @property
    def queue_sort(self) -> Any:
        return self.points["queueSort"][0]

    # -- scheduling cycle ----------------------------------------------------------------------
    def run_pre_filter(self, state: CycleState, pod: Pod, nodes: list[NodeInfo]) -> tuple[PreFilterResult, Status]:
        allowed: frozenset[str] | None = None
        skipped: set[str] = set()
        for plugin in self.points["preFilter"]:
            result, status = plugin.pre_filter(state, pod, nodes)
            if status.is_skip:
                skipped.add(plugin.name)
                continue
            if not status.is_success:
                return PreFilterResult(), status.by(plugin.name)
            if result is not None and result.node_names is not None:
                allowed = result.node_names if allowed is None else allowed & result.node_names
        state[SKIP_FILTER] = skipped
        return PreFilterResult(allowed), Status()

    def run_filter(self, state: CycleState, pod: Pod, node: NodeInfo) -> Status:
        skipped: set[str] = state.get(SKIP_FILTER, set())
        for plugin in self.points["filter"]:
            if plugin.name in skipped:
                continue
            status: Status = plugin.filter(state, pod, node)
            if not status.is_success:
                return status.by(plugin.name)
        return Status()

    def run_post_filter(self, state: CycleState, pod: Pod, statuses: Mapping[str, Status]) -> tuple[str | None, str]:
        """A nominated node (room was made), or None with the post-filters' message."""
        messages = []
        for plugin in self.points["postFilter"]:
            nominated, status = plugin.post_filter(state, pod, statuses)
            if status.is_success and nominated:
                return nominated, ""
            if status.message:
                messages.append(status.message)
        return None, " ".join(messages)

    def run_pre_score(self, state: CycleState, pod: Pod, nodes: list[NodeInfo]) -> Status:
        skipped: set[str] = set()
        for plugin in self.points["preScore"]:
            status: Status = plugin.pre_score(state, pod, nodes)
            if status.is_skip:
                skipped.add(plugin.name)
            elif not status.is_success:
                return status.by(plugin.name)
        state[SKIP_SCORE] = skipped
        return Status()

    def run_score(self, state: CycleState, pod: Pod, nodes: list[NodeInfo]) -> tuple[dict[str, int], Status]:
        """Each node's weighted total; per plugin too, under ``state["kubelab/scores"]`` for explanations."""
        skipped: set[str] = state.get(SKIP_SCORE, set())
        totals = {n.name: 0 for n in nodes}
        per_plugin: dict[str, dict[str, int]] = {}
        for plugin in self.points["score"]:
            if plugin.name in skipped:
                continue
            scores: dict[str, int] = {}
            for node in nodes:
                value, status = plugin.score(state, pod, node)
                if not status.is_success:
                    return {}, status.by(plugin.name)
                scores[node.name] = value
            if isinstance(plugin, ScoreNormalizer):
                status = plugin.normalize(state, pod, scores)
                if not status.is_success:
                    return {}, status.by(str(getattr(plugin, "name", "")))
            for name, value in scores.items():
                if not 0 <= value <= MAX_NODE_SCORE:
                    return {}, Status.error(f"score {value} of {name} is outside [0, {MAX_NODE_SCORE}]", plugin.name)
                totals[name] += value * self.weights[plugin.name]
            per_plugin[plugin.name] = scores
        state["kubelab/scores"] = per_plugin
        return totals, Status()

    def run_reserve(self, state: CycleState, pod: Pod, node: str) -> Status:
        for plugin in self.points["reserve"]:
            status: Status = plugin.reserve(state, pod, node)
            if not status.is_success:
                return status.by(plugin.name)
        return Status()

    def run_unreserve(self, state: CycleState, pod: Pod, node: str) -> None:
        for plugin in reversed(self.points["reserve"]):
            plugin.unreserve(state, pod, node)

    def run_permit(self, state: CycleState, pod: Pod, node: str) -> Status:
        """SUCCESS, a rejection, or WAIT (the pod is now among the waiting pods)."""
        timeouts: dict[str, float] = {}
        for plugin in self.points["permit"]:
            answer: tuple[Status, float] = plugin.permit(state, pod, node)
            status, timeout = answer
            if status.code is Code.WAIT:
                timeouts[plugin.name] = timeout
            elif not status.is_success:
                return status.by(plugin.name)
        if timeouts:
            self.handle.waiting.add(WaitingPod(pod, node, timeouts))
            return Status(Code.WAIT)
        return Status()

    # -- binding cycle -------------------------------------------------------------------------
    def wait_on_permit(self, pod: Pod) -> Status:
        waiting = self.handle.waiting.get(pods.uid(pod))
        if waiting is None:
            return Status()
        try:
            result: Status = waiting.wait()
            return result
        finally:
            self.handle.waiting.remove(waiting.uid)

    def run_pre_bind(self, state: CycleState, pod: Pod, node: str) -> Status:
        for plugin in self.points["preBind"]:
            status: Status = plugin.pre_bind(state, pod, node)
            if not status.is_success:
                return status.by(plugin.name)
        return Status()

    def run_bind(self, state: CycleState, pod: Pod, node: str) -> Status:
        for plugin in self.points["bind"]:
            status: Status = plugin.bind(state, pod, node)
            if status.is_skip:
                continue
            return status.by(plugin.name)
        return Status.error("no bind plugin bound the pod")

    def run_post_bind(self, state: CycleState, pod: Pod, node: str) -> None:
        for plugin in self.points["postBind"]:
            plugin.post_bind(state, pod, node)
