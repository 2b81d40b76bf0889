"""The kit's tests: pytester, and a throwaway repository with one lab (``demo``) to run the plugin on."""

from __future__ import annotations

import shutil

import pytest

from kubelab_cluster.pins import repo_root

pytest_plugins = ["pytester"]

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
