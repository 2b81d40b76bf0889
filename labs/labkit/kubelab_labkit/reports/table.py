"""The table printed at the end of a lab run: checkpoints in order, outcome and time, then the
first failure's hints (what the student reads first)."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table

from kubelab_labkit.reports.model import Outcome, Report

STYLE = {Outcome.PASSED: "green", Outcome.FAILED: "bold red", Outcome.SKIPPED: "yellow", Outcome.NOT_REACHED: "dim"}


def render(report: Report, width: int = 120) -> str:
    graded = report.graded
    what = "the reference" if graded.reference else f"--impl {graded.path}"
    commit = f" at {graded.commit[:12]}{' with uncommitted changes' if graded.dirty else ''}" if graded.commit else ""
    table = Table(title=f"lab {report.lab} · {report.student} · {what}{commit}", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("checkpoint")
    table.add_column("result")
    table.add_column("time", justify="right")
    for number, checkpoint in enumerate(report.checkpoints, 1):
        seconds = f"{checkpoint.seconds:.1f} s" if checkpoint.outcome is not Outcome.NOT_REACHED else ""
        table.add_row(str(number), checkpoint.name, f"[{STYLE[checkpoint.outcome]}]{checkpoint.outcome}[/]", seconds)
    counts = ", ".join(f"{report.count(o)} {o}" for o in Outcome if report.count(o))
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=False, color_system=None, soft_wrap=False)
    console.print(table)
    console.print(f"{counts} in {report.seconds:.0f} s")
    failure = report.first_failure
    if failure is not None:
        console.print(f"first failure: {failure.name}: {failure.message.splitlines()[0] if failure.message else ''}")
        for hint in failure.hints:
            console.print(f"  {hint}")
    return buffer.getvalue()
