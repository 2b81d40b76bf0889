"""Every run of one lab writes its report: JSON (the dashboard's model), JUnit XML and a table."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from kubelab_labkit.reports import junit, table
from kubelab_labkit.reports.model import Checkpoint, Graded, Outcome, Report
from kubelab_labkit.reports.post import send


def _run(lab_tree: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, Path]:
    out = lab_tree.path / "reports"
    result = lab_tree.runpytest_subprocess(
        "labs/demo/tests", "-p", "no:cacheprovider", "--report-dir", str(out), "--student", "alice", *args
    )
    return result, out


def test_a_failed_run_reports_each_checkpoint_in_order(lab_tree: pytest.Pytester) -> None:
    result, out = _run(lab_tree)
    result.assert_outcomes(errors=1)
    report = Report.model_validate_json((out / "demo.json").read_bytes())
    assert (report.student, report.lab, report.chapter) == ("alice", "demo", 3)
    assert report.graded.reference and report.graded.kind is None  # the platform itself (no [impl])
    first, second = report.checkpoints
    assert first.outcome is Outcome.FAILED and "agent never became ready" in first.message
    assert first.hints == [
        "(fixture agent) Hint: look at the agent's logs (kubectl logs ds/agent).",
        "Hint: the test's own hint.",
    ]
    assert second.outcome is Outcome.NOT_REACHED and second.seconds == 0
    assert report.first_failure == first and not report.passed
    result.stdout.fnmatch_lines(
        [
            "*lab demo: report*",
            "*test_01_uses_agent*failed*",
            "*test_02_plain*not reached*",
            "1 failed, 1 not reached in *",
            "first failure: test_01_uses_agent: *",
            "*(fixture agent) Hint: look at the agent's logs*",
            f"report: {out / 'demo.json'}",
        ]
    )


def test_the_junit_xml_says_what_was_not_reached(lab_tree: pytest.Pytester) -> None:
    _, out = _run(lab_tree)
    suite = ET.parse(out / "demo.junit.xml").getroot()
    assert (suite.get("name"), suite.get("tests"), suite.get("failures"), suite.get("skipped")) == (
        "lab-demo",
        "2",
        "1",
        "1",
    )
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["test_01_uses_agent", "test_02_plain"]
    failure = cases[0].find("failure")
    assert failure is not None and "Hint: the test's own hint." in (failure.text or "")
    skipped = cases[1].find("skipped")
    assert skipped is not None and skipped.get("type") == "not-reached"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["student"] == "alice" and props["graded"] == "reference"


def test_a_passing_run_and_a_skip(lab_tree: pytest.Pytester) -> None:
    tests = lab_tree.path / "labs" / "demo" / "tests" / "test_demo.py"
    tests.write_text('import pytest\n\ndef test_01():\n    pass\n\ndef test_02():\n    pytest.skip("no GPU here")\n')
    result, out = _run(lab_tree)
    result.assert_outcomes(passed=1, skipped=1)
    report = Report.model_validate_json((out / "demo.json").read_bytes())
    assert [c.outcome for c in report.checkpoints] == [Outcome.PASSED, Outcome.SKIPPED]
    assert report.checkpoints[1].message == "no GPU here" and report.passed


def test_a_student_name_that_cannot_be_reported_is_refused(lab_tree: pytest.Pytester) -> None:
    result, _ = _run(lab_tree, "--student", "<script>")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--student '<script>': use 1 to 64 letters*"])


def test_collect_only_writes_no_report(lab_tree: pytest.Pytester) -> None:
    result, out = _run(lab_tree, "--collect-only")
    assert result.ret == 0 and not out.exists()


def test_an_unreachable_dashboard_is_one_line_and_not_a_failure(lab_tree: pytest.Pytester) -> None:
    result, out = _run(lab_tree, "--report-to", "http://127.0.0.1:9", "--class-token", "t")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["report not sent to http://127.0.0.1:9/api/reports: *"])
    assert (out / "demo.json").is_file()


def _report(**change: object) -> Report:
    now = datetime.now(UTC)
    data: dict[str, object] = {
        "student": "bob",
        "lab": "cni",
        "chapter": 5,
        "graded": Graded(reference=False, kind="exec-plugin", path="/x"),
        "started": now,
        "finished": now,
        "checkpoints": [
            Checkpoint(id="labs/cni/tests/t.py::test_01", name="test_01", outcome=Outcome.PASSED, seconds=1)
        ],
    }
    return Report.model_validate({**data, **change})


def test_the_model_refuses_what_no_run_writes() -> None:
    with pytest.raises(ValidationError, match="checkpoint ids repeat"):
        _report(checkpoints=[_report().checkpoints[0]] * 2)
    with pytest.raises(ValidationError, match="String should match pattern"):
        _report(student="")
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Report.model_validate({**json.loads(_report().model_dump_json()), "grade": "A"})


def test_table_and_junit_render_a_student_run() -> None:
    report = _report()
    assert "--impl /x" in table.render(report) and "1 passed in 0 s" in table.render(report)
    assert 'value="--impl /x"' in junit.render(report)


def test_no_token_no_post() -> None:
    assert send(_report(), "http://127.0.0.1:9", None).startswith(
        "report not sent to http://127.0.0.1:9: no class token"
    )


def test_a_refused_impl_records_nothing(lab_tree: pytest.Pytester) -> None:
    result, out = _run(lab_tree, "--impl", "/no/such/plugin")
    assert result.ret == pytest.ExitCode.USAGE_ERROR and not out.exists()
