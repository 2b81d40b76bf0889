"""The recorder: one FailedScheduling per message per window, unchanged conditions not rewritten."""

from __future__ import annotations

from typing import Any

from kubelab_scheduler.events import REPEAT_AFTER, Recorder

from .builders import pod


class FakeApi:
    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []
        self.patched: list[dict[str, Any]] = []

    def create(self, resource: Any, obj: dict[str, Any], namespace: str) -> dict[str, Any]:
        self.created.append(obj)
        return obj

    def patch(self, resource: Any, name: str, patch: dict[str, Any], namespace: str, **kw: Any) -> dict[str, Any]:
        self.patched.append(patch)
        return patch


def test_repeats_are_said_once_per_window() -> None:
    now = [0.0]
    api = FakeApi()
    rec = Recorder(api, clock=lambda: now[0])  # type: ignore[arg-type]
    p = pod("a")
    for _ in range(5):
        rec.failed(p, "0/3 nodes are available: 3 Insufficient cpu.", "kubelab-scheduler")
        rec.unschedulable_condition(p, "Unschedulable", "0/3 nodes are available: 3 Insufficient cpu.")
    rec.failed(p, "another message", "kubelab-scheduler")
    now[0] += REPEAT_AFTER + 1
    rec.failed(p, "0/3 nodes are available: 3 Insufficient cpu.", "kubelab-scheduler")
    rec.flush()
    assert sorted(e["note"] for e in api.created) == [  # sent by several threads: any order
        "0/3 nodes are available: 3 Insufficient cpu.",
        "0/3 nodes are available: 3 Insufficient cpu.",
        "another message",
    ]
    assert len(api.patched) == 1
    same = {
        **p,
        "status": {
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "m"}]
        },
    }
    rec.unschedulable_condition(same, "Unschedulable", "m")  # already says so
    rec.flush()
    assert len(api.patched) == 1
    rec.close()
