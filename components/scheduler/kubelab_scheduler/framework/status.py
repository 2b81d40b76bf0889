"""A plugin's answer (upstream ``framework.Status``): a code, the reasons, and which plugin said it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Code(enum.IntEnum):
    SUCCESS = 0
    ERROR = 1  # something went wrong: the pod is retried with backoff
    UNSCHEDULABLE = 2  # does not fit now; preemption (post-filter) may help
    UNSCHEDULABLE_AND_UNRESOLVABLE = 3  # does not fit, and preemption cannot change that
    WAIT = 4  # permit: hold the pod until allowed or timed out
    SKIP = 5  # pre-filter/pre-score: this plugin has nothing to do for the pod


@dataclass(frozen=True)
class Status:
    code: Code = Code.SUCCESS
    reasons: tuple[str, ...] = ()
    plugin: str = ""

    @classmethod
    def unschedulable(cls, *reasons: str, plugin: str = "", resolvable: bool = True) -> Status:
        code = Code.UNSCHEDULABLE if resolvable else Code.UNSCHEDULABLE_AND_UNRESOLVABLE
        return cls(code, reasons, plugin)

    @classmethod
    def error(cls, reason: str, plugin: str = "") -> Status:
        return cls(Code.ERROR, (reason,), plugin)

    @property
    def is_success(self) -> bool:
        return self.code is Code.SUCCESS

    @property
    def is_rejection(self) -> bool:
        return self.code in (Code.UNSCHEDULABLE, Code.UNSCHEDULABLE_AND_UNRESOLVABLE)

    @property
    def is_skip(self) -> bool:
        return self.code is Code.SKIP

    def by(self, plugin: str) -> Status:
        return self if self.plugin else Status(self.code, self.reasons, plugin)

    @property
    def message(self) -> str:
        return ", ".join(self.reasons)


@dataclass
class Diagnosis:
    """Why no node fits: each node's rejecting status, and the plugins that rejected (for requeueing)."""

    node_statuses: dict[str, Status] = field(default_factory=dict)
    plugins: set[str] = field(default_factory=set)
    pre_filter_message: str = ""


class FitError(Exception):
    """No node fits the pod; the message is upstream's ("0/3 nodes are available: ...")."""

    def __init__(self, pod_key: str, total: int, diagnosis: Diagnosis, post_filter: str = "") -> None:
        self.pod_key = pod_key
        self.total = total
        self.diagnosis = diagnosis
        self.post_filter = post_filter
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """As upstream's ``FitError.Error``: the pre-filter message, the sorted histogram of the nodes'
        reasons ("1 node(s) had untolerated taint(s), 2 Insufficient cpu"), the post-filter's, each
        followed by a period."""
        text = f"0/{self.total} nodes are available:"
        if self.diagnosis.pre_filter_message:
            text += f" {self.diagnosis.pre_filter_message}."
        counts: dict[str, int] = {}
        for status in self.diagnosis.node_statuses.values():
            for reason in status.reasons:
                counts[reason] = counts.get(reason, 0) + 1
        if counts:
            text += " " + ", ".join(sorted(f"{n} {reason}" for reason, n in counts.items())) + "."
        if self.post_filter:
            text += f" {self.post_filter}."
        return text
