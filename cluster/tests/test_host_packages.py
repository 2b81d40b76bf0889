"""The Debian packages the builds and images run: collected from their users, checked up front."""

from __future__ import annotations

import argparse
import subprocess
from typing import Any

import pytest

from kubelab_cluster.host import packages
from kubelab_cluster.toolchain import build, cli


def test_required_collects_every_consumer() -> None:
    needs = packages.required()
    assert needs["libseccomp-dev"] == "builds runc"
    assert {"gcc", "pkg-config", "debootstrap", "libc6-dev"} <= set(needs)
    assert needs["btrfs-progs"].startswith("the CSI driver")


def _fake_dpkg(monkeypatch: pytest.MonkeyPatch, present: set[str]) -> list[list[str]]:
    calls: list[list[str]] = []

    def run(cmd: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        lines = [f"{p} install ok installed" if p in present else f"{p} unknown ok not-installed" for p in cmd[4:]]
        return subprocess.CompletedProcess(cmd, 0, "\n".join(lines) + "\n", "")

    monkeypatch.setattr(packages, "dpkg_available", lambda: True)
    monkeypatch.setattr(packages.subprocess, "run", run)
    return calls


def test_missing_asks_dpkg_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _fake_dpkg(monkeypatch, {"gcc", "pkg-config"})
    assert packages.missing(["gcc", "libseccomp-dev", "pkg-config", "debootstrap"]) == ["debootstrap", "libseccomp-dev"]
    assert len(calls) == 1


def test_toolchain_stops_before_the_first_build(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing is built when a package any artifact needs is missing: the error comes first."""
    _fake_dpkg(monkeypatch, {"gcc", "pkg-config"})
    monkeypatch.setattr(cli, "lookup", lambda *a, **k: None)
    built: list[str] = []
    monkeypatch.setattr(cli, "build", lambda a, *_, **__: built.append(a.name))
    args = argparse.Namespace(names=[], force=False, git_version=None, git_tree_state=None)
    with pytest.raises(build.ToolchainError, match="libseccomp-dev") as err:
        cli.cmd_build(args)
    assert built == []
    assert "kubelab-host setup" in err.value.fix
    assert cli.main(["build"]) == 1  # the entry point reports it
    assert "fix: kubelab-host setup" in capsys.readouterr().err
