"""The grade check: does each lab grade the student's code? Every lab with a starter is run with
its untouched starter (``--impl``), up to the checkpoint its lab.toml names (``[impl]
starter-fails-at``), and must fail exactly there: not earlier (a checkpoint failing on code the
student has not touched yet), not later (an exercise that passes untouched grades nothing), with
that checkpoint's own hint naming the book section. The reference, the lab's default
implementation, passes through the same ``--impl`` path on every ordinary run.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from kubelab_labkit.registry import Lab
from kubelab_labkit.reports.model import Outcome, Report

STUDENT = "grade-check"


@dataclass(frozen=True)
class Verdict:
    lab: str
    expected: str
    ok: bool
    finding: str
    seconds: float


def function_of(checkpoint_id: str) -> str:
    """``labs/x/tests/test_04.py::test_04_name[param]`` → ``test_04_name``."""
    return re.sub(r"\[.*\]$", "", checkpoint_id.rsplit("::", 1)[-1])


def judge(lab: Lab, report: Report, seconds: float) -> Verdict:
    assert lab.impl is not None and lab.impl.starter_fails_at
    expected = lab.impl.starter_fails_at

    def verdict(ok: bool, finding: str) -> Verdict:
        return Verdict(lab.name, expected, ok, finding, seconds)

    failure = report.first_failure
    if failure is None:
        return verdict(False, f"the untouched starter passed every checkpoint up to {expected}: it grades nothing")
    at = function_of(failure.id)
    before = report.checkpoints[: report.checkpoints.index(failure)]
    if at != expected:
        where = "before" if all(function_of(c.id) != expected for c in before) else "after"
        return verdict(
            False,
            f"fails at {at}, {where} {expected}: "
            + (
                "that checkpoint fails on code the student has not touched yet (fix it or move it after the exercise)"
                if where == "before"
                else f"{expected} passed with the untouched starter"
            )
            + f": {failure.message.splitlines()[0] if failure.message else ''}",
        )
    if any(c.outcome not in (Outcome.PASSED, Outcome.SKIPPED) for c in before):
        return verdict(False, "a checkpoint before it did not pass")
    own = [h for h in failure.hints if h.startswith("Hint (")]
    if not own:
        return verdict(False, f"{at} failed without its own hint naming the book section (hints: {failure.hints})")
    return verdict(True, f"fails at {at} after {len(before)} passing, with its hint: {own[0][:160]}")


def run(lab: Lab, root: Path, report_dir: Path, extra: list[str]) -> Verdict:
    """Run the lab on its untouched starter, up to the checkpoint it must fail at, and judge the report."""
    assert lab.impl is not None and lab.impl.starter and lab.impl.starter_fails_at
    started = time.monotonic()
    report_file = report_dir / f"{lab.name}.json"
    report_file.unlink(missing_ok=True)
    command = [
        sys.executable, "-m", "pytest", str(lab.checkpoint_dir.relative_to(root)), "-p", "no:cacheprovider",
        "--impl", lab.impl.starter, "--until", lab.impl.starter_fails_at,
        "--student", STUDENT, "--report-dir", str(report_dir), *extra,
    ]  # fmt: skip
    print(f"grade-check: lab {lab.name}: {' '.join(command[1:])}", flush=True)
    subprocess.run(command, cwd=root, check=False)
    seconds = time.monotonic() - started
    if not report_file.is_file():
        return Verdict(lab.name, lab.impl.starter_fails_at, False, "the run wrote no report (see its output)", seconds)
    return judge(lab, Report.model_validate_json(report_file.read_bytes()), seconds)
