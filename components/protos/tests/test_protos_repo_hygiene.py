"""No .proto file and no generated module is ever committed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]  # components/protos/tests/ -> the checkout


def repo_root() -> Path:
    assert (REPO / "cluster" / "versions.toml").is_file(), f"{REPO} is not the repository root"
    return REPO


def git(*args: str) -> subprocess.CompletedProcess[str]:
    if not shutil.which("git"):
        pytest.skip("git is not installed")
    return subprocess.run(["git", "-C", str(repo_root()), *args], capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def tracked() -> list[str]:
    if git("rev-parse", "--is-inside-work-tree").stdout.strip() != "true":
        pytest.skip(f"{repo_root()} is not a git checkout")
    return git("ls-files").stdout.splitlines()


def test_no_proto_or_generated_module_is_tracked(tracked: list[str]) -> None:
    offending = [f for f in tracked if f.endswith(".proto") or "_pb2" in Path(f).name]
    assert offending == [], "generated at build time from the Go module cache; never commit these"


def test_gen_folder_is_ignored(tracked: list[str]) -> None:
    sample = "components/protos/kubelab_protos/gen/cri/v1/api_pb2.py"
    assert git("check-ignore", "-q", sample).returncode == 0, f"{sample} must be gitignored"
