"""Checkpoint 4 (book 1.3): a rebuild with nothing changed does nothing.

We prove it three ways: every artifact reports "cached", the build directories are
untouched, and a ``go`` that fails if called is first on PATH (so nothing is even
compiled to find out it is up to date). It must also take under 10 seconds.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from kubelab_cluster.cache import cache_root

from .conftest import ToolchainCLI


def test_second_build_is_a_noop(toolchain_cli: ToolchainCLI, tmp_path: Path) -> None:
    """A second ``kubelab-toolchain build`` reports 0 built, writes nothing and never runs ``go``.

    Hint (1.1, 1.3): cmd_build in cluster/kubelab_cluster/toolchain/cli.py and build in toolchain/build.py
    must take lookup's cached copy (build.json and every binary in artifact_dir) before anything calls
    GoRunner (the trap `go` records any call); the content key is artifact_key (recipe, pin, workspace key,
    Go version). `uv run kubelab-toolchain build` prints each artifact's state; `uv run kubelab-toolchain
    plan` must print nothing.
    """
    trap = tmp_path / "bin"
    trap.mkdir()
    marker = tmp_path / "go-was-called"
    (trap / "go").write_text(f"#!/bin/sh\ntouch {marker}\nexit 99\n")
    (trap / "go").chmod(0o755)
    before = {p: p.stat().st_mtime_ns for p in (cache_root() / "toolchain").glob("*/*/build.json")}

    started = time.monotonic()
    proc = toolchain_cli("build", env={"PATH": f"{trap}:{os.environ['PATH']}"})
    elapsed = time.monotonic() - started

    assert proc.returncode == 0, proc.stderr
    assert not marker.exists(), "a no-op build must not run the go tool at all"
    assert " 0 built," in proc.stderr, proc.stderr
    assert elapsed < 10, f"no-op build took {elapsed:.1f} s"
    after = {p: p.stat().st_mtime_ns for p in before}
    assert before == after
