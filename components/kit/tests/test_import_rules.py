"""The import rules (pyproject.toml [tool.importlinter], run by `nox -s lint`) hold, and fail when broken.

The packages are copied to a temporary folder that shadows the installed ones (PYTHONPATH),
so a deliberate violation can be added without touching the repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PACKAGES = {
    "kubelab_kit": "components/kit/kubelab_kit",
    "kubelab_cluster": "cluster/kubelab_cluster",
    "kubelab_protos": "components/protos/kubelab_protos",
    "kubelab_client": "components/client/kubelab_client",
    "kubelab_cni": "components/cni/kubelab_cni",
    "kubelab_operator": "components/operator/kubelab_operator",
    "kubelab_scheduler": "components/scheduler/kubelab_scheduler",
    "kubelab_labkit": "labs/labkit/kubelab_labkit",
}


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(exe), "--config", str(REPO / "pyproject.toml"), "--no-cache"],
        cwd=tree, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("imports")
    for name, folder in PACKAGES.items():
        shutil.copytree(REPO / folder, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return root


def test_the_repository_keeps_every_rule(tree: Path) -> None:
    proc = lint_imports(tree)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


@pytest.mark.parametrize(
    ("where", "code", "contract"),
    [
        ("kubelab_cluster/_violation.py", "import kubelab_cni.config\n", "the cluster package imports no component"),
        ("kubelab_protos/_violation.py", "import kubelab_kit.errors\n", "the stubs import nothing of ours"),
        ("kubelab_kit/files.py", "import kubelab_kit.grpc\n", "the kit's core is standard library only"),
        ("kubelab_client/_violation.py", "import kubelab_cni\n", "the Chapter 2 client imports only the kit"),
        ("kubelab_scheduler/_violation.py", "import kubelab_operator\n", "the scheduler imports only the kit"),
    ],
)
def test_a_deliberate_violation_fails_lint(tree: Path, where: str, code: str, contract: str) -> None:
    target = tree / where
    original = target.read_text() if target.exists() else None
    target.write_text((original or "") + code)
    try:
        proc = lint_imports(tree)
    finally:
        if original is None:
            target.unlink()
        else:
            target.write_text(original)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"{contract}" in proc.stdout and "BROKEN" in proc.stdout, proc.stdout
