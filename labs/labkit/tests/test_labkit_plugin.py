"""The pytest plugin as a lab uses it: --impl checked per lab.toml, hints for failing tests and fixtures."""

from __future__ import annotations

import shutil

import pytest

from kubelab_cluster.pins import repo_root

LAB_TOML = 'chapter = 3\ntitle = "t"\nsections = ["3.1"]\nstatus = "done"\ncomponents = ["cluster"]\n'
CHECKPOINTS = '''
import pytest


@pytest.fixture
def agent():
    """Deploys the agent.

    Hint: look at the agent's logs
    (kubectl logs ds/agent).
    """
    raise RuntimeError("agent never became ready")


def test_01_uses_agent(agent):
    """Checkpoint one.

    Hint: the test's own hint.
    """


def test_02_plain():
    """Hint: never reached (maxfail=1)."""
    assert False
'''


@pytest.fixture
def lab_tree(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    root = pytester.path
    (root / "cluster").mkdir()
    shutil.copy(repo_root() / "cluster" / "versions.toml", root / "cluster" / "versions.toml")
    (root / "labs" / "demo" / "tests").mkdir(parents=True)
    (root / "labs" / "conftest.py").write_text('pytest_plugins = ["kubelab_labkit.plugin"]\n')
    (root / "labs" / "demo" / "lab.toml").write_text(LAB_TOML)
    (root / "labs" / "demo" / "tests" / "test_demo.py").write_text(CHECKPOINTS)
    monkeypatch.setenv("KUBELAB_ROOT", str(root))
    return pytester


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
