"""The plugin interfaces, one per extension point (upstream ``framework/interface.go``).

A plugin is an object with a ``name`` and any of these methods; the runtime calls the ones a
profile enables at each point. ``state`` is the cycle's scratch space (a dict), shared by the
plugins of one pod's scheduling and binding cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from kubelab_scheduler.framework.status import Status
from kubelab_scheduler.nodeinfo import NodeInfo

Pod = Mapping[str, Any]
CycleState = dict[str, Any]
MAX_NODE_SCORE = 100


@dataclass(frozen=True)
class PreFilterResult:
    """Pre-filter may narrow the nodes to look at (None: all of them)."""

    node_names: frozenset[str] | None = None


class Plugin(Protocol):
    name: str


@runtime_checkable
class QueueSortPlugin(Protocol):
    name: str

    def less(self, a: Any, b: Any) -> bool: ...


@runtime_checkable
class PreFilterPlugin(Protocol):
    name: str

    def pre_filter(
        self, state: CycleState, pod: Pod, nodes: list[NodeInfo]
    ) -> tuple[PreFilterResult | None, Status]: ...


@runtime_checkable
class FilterPlugin(Protocol):
    name: str

    def filter(self, state: CycleState, pod: Pod, node: NodeInfo) -> Status: ...


@runtime_checkable
class PostFilterPlugin(Protocol):
    name: str

    def post_filter(self, state: CycleState, pod: Pod, statuses: Mapping[str, Status]) -> tuple[str | None, Status]:
        """Try to make room (preemption); returns a nominated node name, or None."""
        ...


@runtime_checkable
class PreScorePlugin(Protocol):
    name: str

    def pre_score(self, state: CycleState, pod: Pod, nodes: list[NodeInfo]) -> Status: ...


@runtime_checkable
class ScorePlugin(Protocol):
    name: str

    def score(self, state: CycleState, pod: Pod, node: NodeInfo) -> tuple[int, Status]: ...


@runtime_checkable
class ScoreNormalizer(Protocol):
    def normalize(self, state: CycleState, pod: Pod, scores: dict[str, int]) -> Status: ...


@runtime_checkable
class ReservePlugin(Protocol):
    name: str

    def reserve(self, state: CycleState, pod: Pod, node: str) -> Status: ...

    def unreserve(self, state: CycleState, pod: Pod, node: str) -> None: ...


@runtime_checkable
class PermitPlugin(Protocol):
    name: str

    def permit(self, state: CycleState, pod: Pod, node: str) -> tuple[Status, float]:
        """SUCCESS, a rejection, or WAIT with a timeout in seconds."""
        ...


@runtime_checkable
class PreBindPlugin(Protocol):
    name: str

    def pre_bind(self, state: CycleState, pod: Pod, node: str) -> Status: ...


@runtime_checkable
class BindPlugin(Protocol):
    name: str

    def bind(self, state: CycleState, pod: Pod, node: str) -> Status:
        """Bind, or SKIP to let the next bind plugin do it."""
        ...


@runtime_checkable
class PostBindPlugin(Protocol):
    name: str

    def post_bind(self, state: CycleState, pod: Pod, node: str) -> None: ...


@runtime_checkable
class EnqueueExtensions(Protocol):
    def events_to_register(self) -> set[str]:
        """The cluster events that may make a pod this plugin rejected schedulable (see queue.EVENTS)."""
        ...
