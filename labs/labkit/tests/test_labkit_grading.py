"""The grade check's judgement, --until, and starter-fails-at naming a real checkpoint."""

from __future__ import annotations

import ast
from datetime import UTC, datetime

import pytest

from kubelab_labkit.grading import function_of, judge
from kubelab_labkit.registry import load_labs
from kubelab_labkit.reports.model import Checkpoint, Graded, Outcome, Report

LAB = next(lab for lab in load_labs() if lab.name == "client")
EXPECTED = LAB.impl.starter_fails_at if LAB.impl else ""


def report(*outcomes: tuple[str, Outcome, list[str]]) -> Report:
    now = datetime.now(UTC)
    return Report(
        student="grade-check", lab="client", chapter=2, started=now, finished=now,
        graded=Graded(reference=False, kind="python-package", path="labs/client/starter"),
        checkpoints=[
            Checkpoint(id=f"labs/client/tests/t.py::{name}", name=name, outcome=o, seconds=1, hints=h,
                       message="AssertionError: x" if o is Outcome.FAILED else "")
            for name, o, h in outcomes
        ],
    )  # fmt: skip


def test_fails_where_lab_toml_says_with_its_hint() -> None:
    v = judge(
        LAB, report(("test_01", Outcome.PASSED, []), (EXPECTED, Outcome.FAILED, ["Hint (2.8): the reflector"])), 3
    )
    assert v.ok and "after 1 passing" in v.finding


def test_earlier_later_silent_and_hintless_failures_are_findings() -> None:
    early = judge(LAB, report(("test_01", Outcome.FAILED, ["Hint (2.1): x"]), (EXPECTED, Outcome.NOT_REACHED, [])), 1)
    assert not early.ok and "before" in early.finding and "not touched yet" in early.finding
    later = judge(LAB, report((EXPECTED, Outcome.PASSED, []), ("test_18", Outcome.FAILED, ["Hint (2.8): y"])), 1)
    assert not later.ok and f"{EXPECTED} passed with the untouched starter" in later.finding
    silent = judge(LAB, report(("test_01", Outcome.PASSED, []), (EXPECTED, Outcome.PASSED, [])), 1)
    assert not silent.ok and "grades nothing" in silent.finding
    hintless = judge(LAB, report((EXPECTED, Outcome.FAILED, ["(fixture f) Hint (2.8): only the fixture's"])), 1)
    assert not hintless.ok and "without its own hint" in hintless.finding


def test_function_of_strips_parameters() -> None:
    assert function_of("labs/x/tests/test_04.py::test_04_rejected[no-name]") == "test_04_rejected"


def test_every_starter_fails_at_a_checkpoint_that_exists() -> None:
    for lab in load_labs():
        if lab.impl is None or not lab.impl.starter:
            continue
        names = {
            node.name
            for path in lab.checkpoint_dir.glob("test_*.py")
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
        }
        assert lab.impl.starter_fails_at in names, f"lab {lab.name}: starter-fails-at {lab.impl.starter_fails_at!r}"


def test_until_runs_up_to_that_checkpoint(lab_tree: pytest.Pytester) -> None:
    tests = lab_tree.path / "labs" / "demo" / "tests" / "test_demo.py"
    tests.write_text("def test_01():\n    pass\n\ndef test_02():\n    pass\n\ndef test_03():\n    assert False\n")
    result = lab_tree.runpytest_subprocess("labs/demo/tests", "-p", "no:cacheprovider", "--until", "test_02",
                                           "--report-dir", str(lab_tree.path / "r"))  # fmt: skip
    result.assert_outcomes(passed=2, deselected=1)
    refused = lab_tree.runpytest_subprocess("labs/demo/tests", "-p", "no:cacheprovider", "--until", "test_99")
    assert refused.ret == pytest.ExitCode.USAGE_ERROR
    refused.stderr.fnmatch_lines(["*--until test_99: no checkpoint of that name among the 3 collected*"])
