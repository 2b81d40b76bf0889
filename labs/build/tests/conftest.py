"""Helpers for the Chapter 1 checkpoints: they drive the real CLIs as a reader would."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from kubelab_cluster.pins import Pins, pins


@pytest.fixture(scope="session")
def pinned() -> Pins:
    return pins()


ToolchainCLI = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def toolchain_cli() -> ToolchainCLI:
    """Run ``kubelab-toolchain ARGS``; returns the completed process (never raises)."""

    def call(*args: str, env: dict[str, str] | None = None, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
        full_env = dict(os.environ)
        full_env.update(env or {})
        return subprocess.run(
            ["kubelab-toolchain", *args], capture_output=True, text=True, env=full_env, timeout=timeout, check=False
        )

    return call


@pytest.fixture(scope="session")
def binary_path(toolchain_cli: ToolchainCLI) -> Callable[[str, str | None], Path]:
    def locate(artifact: str, binary: str | None = None) -> Path:
        args = ["path", artifact] + ([binary] if binary else [])
        proc = toolchain_cli(*args)
        assert proc.returncode == 0, f"{artifact} is not built: {proc.stderr}\nhint: run `nox -s toolchain`"
        return Path(proc.stdout.strip())

    return locate
