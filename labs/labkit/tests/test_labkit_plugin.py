"""The pytest plugin as a lab uses it: --impl checked per lab.toml, hints for failing tests and fixtures."""

from __future__ import annotations

import pytest


def test_impl_refused_where_the_lab_takes_none(lab_tree: pytest.Pytester) -> None:
    result = lab_tree.runpytest_subprocess("labs/demo/tests", "--impl", "whatever", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*lab-demo takes no --impl: its checkpoints grade cluster*never silently grades*"])


def test_a_failing_fixture_prints_its_hints_and_the_tests(lab_tree: pytest.Pytester) -> None:
    result = lab_tree.runpytest_subprocess("labs/demo/tests", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)  # maxfail=1: the second checkpoint never runs
    result.stdout.fnmatch_lines(
        [
            "*checkpoint hint*",
            "(fixture agent) Hint: look at the agent's logs (kubectl logs ds/agent).",
            "Hint: the test's own hint.",
        ]
    )
    result.stdout.fnmatch_lines(["lab demo: grading cluster (this lab takes no --impl)"])
