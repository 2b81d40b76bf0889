"""Checkpoint 6: a broken build says which artifact, which command, and what to do."""

from __future__ import annotations

import os
from pathlib import Path

from .conftest import ToolchainCLI
from .test_05_pin_change_rebuilds_dependents import edited_pins


def test_missing_go(toolchain_cli: ToolchainCLI, tmp_path: Path) -> None:
    """Without ``go`` on PATH the build fails naming the artifact and the fix (install Go).

    Hint (1.1): go_binary in cluster/kubelab_cluster/toolchain/gotool.py raises the ToolchainError
    (toolchain/errors.py) with GO_MISSING_FIX, and the entry_point of toolchain/cli.py prints it. Reproduce
    with `kubelab-toolchain build cnitool --force` under a PATH whose folders hold no `go`.
    """
    path = ":".join(p for p in os.environ["PATH"].split(":") if not (Path(p) / "go").exists())
    proc = toolchain_cli("build", "cnitool", "--force", env={"PATH": path})
    assert proc.returncode == 1
    assert "building 'cnitool' failed" in proc.stderr
    assert "`go` command is not on PATH" in proc.stderr
    assert "fix: install Go" in proc.stderr


def test_unreachable_module(toolchain_cli: ToolchainCLI, tmp_path: Path) -> None:
    """A pin the proxy does not serve fails naming the command, the module and cluster/versions.toml.

    Hint (1.1): GoRunner.module_info and diagnose in cluster/kubelab_cluster/toolchain/gotool.py write the
    "fix:"; reproduce with `GOPROXY=off KUBELAB_PINS=/tmp/versions.toml uv run kubelab-toolchain build
    cnitool` and an edited pin copy (cni = "v9.9.9").
    """
    pins = edited_pins(tmp_path, "cni", "v9.9.9")
    proc = toolchain_cli("build", "cnitool", env={"KUBELAB_PINS": str(pins), "GOPROXY": "off"})
    assert proc.returncode == 1
    assert "building 'cnitool' failed" in proc.stderr
    assert "command: " in proc.stderr and "github.com/containernetworking/cni@v9.9.9" in proc.stderr
    assert "fix: " in proc.stderr and "cluster/versions.toml" in proc.stderr
