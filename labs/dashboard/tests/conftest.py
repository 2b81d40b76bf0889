"""Reports as lab runs write them, a dashboard app on a temporary store, and its two classes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI

from kubelab_dashboard.app import create_app
from kubelab_dashboard.classes import Classroom, classes
from kubelab_dashboard.store import Store
from kubelab_labkit.reports.model import Checkpoint, Graded, Outcome, Report

TOKEN, OTHER, KEY = "class-token-101", "class-token-102", "instructor-key"
LABS = {"cni": 5, "client": 2}
MakeReport = Callable[..., Report]


@pytest.fixture
def make_report() -> MakeReport:
    def make(student: str = "alice", lab: str = "cni", fail_at: int | None = None, count: int = 6) -> Report:
        start = datetime.now(UTC) - timedelta(seconds=60)
        checkpoints = []
        for n in range(1, count + 1):
            if fail_at is None or n < fail_at:
                outcome, message, hints = Outcome.PASSED, "", []
            elif n == fail_at:
                outcome, message, hints = (
                    Outcome.FAILED,
                    f"AssertionError: step {n}",
                    [f"Hint (5.{n}): look at step {n}"],
                )
            else:
                outcome, message, hints = Outcome.NOT_REACHED, "", []
            checkpoints.append(
                Checkpoint(
                    id=f"labs/{lab}/tests/test_{n:02}.py::test_{n:02}_step",
                    name=f"test_{n:02}_step",
                    outcome=outcome,
                    seconds=1.5 if outcome is not Outcome.NOT_REACHED else 0,
                    message=message,
                    hints=hints,
                )
            )
        return Report(
            student=student,
            lab=lab,
            chapter=LABS[lab],
            started=start,
            finished=start + timedelta(seconds=30),
            graded=Graded(
                reference=False,
                kind="exec-plugin",
                path=f"/home/{student}/plugin",
                commit="a" * 40,
                dirty=True,
                digest="0" * 16,
            ),
            checkpoints=checkpoints,
        )

    return make


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "data")


@pytest.fixture
def make_app(store: Store) -> Callable[[], FastAPI]:
    def make() -> FastAPI:
        rooms = [Classroom("k8s-101", TOKEN), Classroom("k8s-102", OTHER)]
        return create_app(classes(rooms, KEY), store, LABS)

    return make
