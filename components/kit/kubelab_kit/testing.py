"""Helpers the packages' own tests share (standard library only)."""

from __future__ import annotations

import os
import subprocess
import sys


def run_python(code: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -c CODE ARGS`` in a fresh interpreter of this environment (never raises on failure).

    A fresh process sees imports as a user's program would: nothing this test process loaded
    (a bound ``kubelab_protos.gen``, a patched module) leaks into it. Writes no bytecode.
    """
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
