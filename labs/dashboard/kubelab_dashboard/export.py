"""The board as CSV: one line per student, lab and checkpoint, with where the student is stuck."""

from __future__ import annotations

import csv
import io

from kubelab_dashboard.board import DONE, Board

HEADER = [
    "class",
    "lab",
    "student",
    "number",
    "checkpoint",
    "outcome",
    "seconds",
    "stuck at",
    "stuck since",
    "runs",
    "received",
    "graded",
    "commit",
]


def to_csv(board: Board, room: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for row in board.rows(room):
        report = row.report
        failure = report.first_failure
        stuck = failure.name if failure and row.position != DONE else ""
        for number, checkpoint in enumerate(report.checkpoints, 1):
            writer.writerow(
                [
                    room,
                    report.lab,
                    report.student,
                    number,
                    checkpoint.name,
                    checkpoint.outcome.value,
                    f"{checkpoint.seconds:.3f}",
                    stuck,
                    row.since.isoformat() if stuck else "",
                    row.runs,
                    row.received.isoformat(),
                    "reference" if report.graded.reference else report.graded.path or "",
                    report.graded.commit or "",
                ]
            )
    return out.getvalue()
