"""What the page shows: for each class and lab, each student's latest run, the checkpoints as
columns (in the lab's order), and where the student is stuck (the first failure) since when:
the time of the first of the consecutive runs that stopped at that same checkpoint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kubelab_labkit.reports.model import Outcome, Report

DONE = ""  # the position of a student whose run passed


@dataclass(frozen=True)
class Row:
    room: str
    report: Report
    received: datetime
    position: str  # the first failure's checkpoint id; DONE when the run passed
    since: datetime  # since when the student is at this position
    runs: int

    @property
    def key(self) -> tuple[str, str, str]:
        return self.room, self.report.lab, self.report.student

    def to_json(self) -> dict[str, Any]:
        report = self.report
        failure = report.first_failure
        return {
            "lab": report.lab,
            "chapter": report.chapter,
            "student": report.student,
            "cells": {c.id: c.outcome.value for c in report.checkpoints},
            "titles": {c.id: _title(c.name, c.outcome, c.seconds, c.message) for c in report.checkpoints},
            "position": self.position,
            "position_name": failure.name if failure else "",
            "hints": failure.hints if failure else [],
            "since": self.since.isoformat(),
            "received": self.received.isoformat(),
            "runs": self.runs,
            "passed": report.passed,
            "graded": "the reference" if report.graded.reference else (report.graded.path or ""),
            "commit": (report.graded.commit or "")[:12],
            "dirty": bool(report.graded.dirty),
        }


def _title(name: str, outcome: Outcome, seconds: float, message: str) -> str:
    text = f"{name}: {outcome.value}"
    if outcome is not Outcome.NOT_REACHED:
        text += f" ({seconds:.1f} s)"
    return f"{text}\n{message}" if message else text


class Board:
    def __init__(self) -> None:
        self._rows: dict[tuple[str, str, str], Row] = {}
        self._columns: dict[tuple[str, str], list[tuple[str, str]]] = {}

    def add(self, room: str, report: Report, received: datetime) -> Row:
        failure = report.first_failure
        position = failure.id if failure else DONE
        before = self._rows.get((room, report.lab, report.student))
        since = before.since if before is not None and before.position == position else received
        row = Row(room, report, received, position, since, (before.runs if before else 0) + 1)
        self._rows[row.key] = row
        columns = self._columns.setdefault((room, report.lab), [])
        known = {cid for cid, _ in columns}
        columns += [(c.id, c.name) for c in report.checkpoints if c.id not in known]
        return row

    def rows(self, room: str) -> list[Row]:
        return sorted((r for r in self._rows.values() if r.room == room), key=lambda r: (r.report.chapter, r.key))

    def columns(self, room: str, lab: str) -> list[tuple[str, str]]:
        return list(self._columns.get((room, lab), []))

    def view(self, room: str) -> dict[str, Any]:
        labs: dict[str, dict[str, Any]] = {}
        for row in self.rows(room):
            lab = row.report.lab
            if lab not in labs:
                labs[lab] = {
                    "lab": lab,
                    "chapter": row.report.chapter,
                    "columns": self.column_json(room, lab),
                    "rows": [],
                }
            labs[lab]["rows"].append(row.to_json())
        return {"class": room, "labs": list(labs.values())}

    def column_json(self, room: str, lab: str) -> list[dict[str, Any]]:
        return [{"id": cid, "name": name, "number": n} for n, (cid, name) in enumerate(self.columns(room, lab), 1)]
