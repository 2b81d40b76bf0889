"""``kubelab-protos generate`` and ``kubelab-protos list`` as a reader runs them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kubelab_cluster.protos.cli import main


def test_generate_reports_cached_then_forced(protos_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--out", str(protos_copy)]) == 0
    err = capsys.readouterr().err
    assert "up to date" in err and "(cached)" in err and "k8s.io/cri-api@" in err
    assert main(["generate", "--out", str(protos_copy), "--force"]) == 0
    assert re.search(r"0 written, [1-9][0-9]* unchanged, 0 removed", capsys.readouterr().err)


def test_generate_failure_exits_1_naming_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.proto"
    bad.write_text('syntax = "proto3";\npackage v1beta1;\nmessage {\n')
    assert main(["generate", "--out", str(tmp_path / "gen"), "--override", f"deviceplugin-v1beta1={bad}"]) == 1
    err = capsys.readouterr().err
    assert str(bad) in err and "deviceplugin-v1beta1" in err and "fix:" in err
    assert not (tmp_path / "gen" / ".stamp.json").exists()


def test_list_json_matches_the_descriptors(protos_copy: Path, protos_report: dict[str, Any]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "kubelab_cluster.protos.cli", "list", "--out", str(protos_copy), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == protos_report["services"]


def test_list_without_stubs_says_how_to_generate(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "kubelab_cluster.protos.cli", "list", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1
    assert "kubelab-protos generate" in proc.stderr


def test_malformed_override_flag_exits_1_with_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--out", str(tmp_path / "gen"), "--override", "cri-v1"]) == 1
    err = capsys.readouterr().err
    assert "protos: --override wants NAME=FILE.proto, got 'cri-v1'" in err and "fix: e.g. --override" in err
    assert not (tmp_path / "gen").exists()
