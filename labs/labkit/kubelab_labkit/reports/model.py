"""The report document of one lab run (JSON, ``format = kubelab-report/v1``).

The dashboard (labs/dashboard) reads the same model, so a report a lab run writes is one it
accepts; anything else is refused with pydantic's account of what is wrong.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

STUDENT = r"^[A-Za-z0-9][A-Za-z0-9 ._@+-]{0,63}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Outcome(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    NOT_REACHED = "not reached"  # an earlier checkpoint failed and the run stopped there


class Checkpoint(_Strict):
    """One checkpoint (a parametrized case is one), in the order the lab runs them."""

    id: str = Field(min_length=1, max_length=500, description="pytest's node id")
    name: str = Field(min_length=1, max_length=300, description="the test function, with its parameters")
    outcome: Outcome
    seconds: float = Field(ge=0, description="setup, call and teardown together")
    message: str = Field(default="", max_length=2000, description="a failure's one line, or a skip's reason")
    hints: list[str] = Field(default=[], description="the hints printed for a failure")


class Graded(_Strict):
    """Which code the run graded."""

    reference: bool = Field(description="the lab's reference (no --impl), or a student's --impl")
    kind: str | None = Field(default=None, description="the lab's [impl] kind; None for labs without --impl")
    path: str | None = Field(default=None, description="--impl PATH (or the reference's folder)")
    commit: str | None = Field(default=None, description="the git commit holding PATH, when it is in a git work tree")
    dirty: bool | None = Field(default=None, description="PATH had changes not committed (None outside git)")
    digest: str | None = Field(default=None, description="sha256 of PATH's files (names and bytes), 16 hex digits")


class Report(_Strict):
    format: Literal["kubelab-report/v1"] = "kubelab-report/v1"
    student: str = Field(pattern=STUDENT, description="who ran the lab (--student, $KUBELAB_STUDENT, git, login)")
    lab: str = Field(pattern=r"^[a-z][a-z0-9-]{0,39}$")
    chapter: int = Field(ge=0, le=9)
    graded: Graded
    started: datetime
    finished: datetime
    checkpoints: list[Checkpoint] = Field(min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _consistent(self) -> Report:
        ids = [c.id for c in self.checkpoints]
        if len(set(ids)) != len(ids):
            raise ValueError("checkpoint ids repeat")
        if self.finished < self.started:
            raise ValueError("finished before it started")
        return self

    @property
    def first_failure(self) -> Checkpoint | None:
        return next((c for c in self.checkpoints if c.outcome is Outcome.FAILED), None)

    @property
    def passed(self) -> bool:
        return all(c.outcome in (Outcome.PASSED, Outcome.SKIPPED) for c in self.checkpoints)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for c in self.checkpoints if c.outcome is outcome)

    @property
    def seconds(self) -> float:
        return (self.finished - self.started).total_seconds()
