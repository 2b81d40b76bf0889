"""Helpers the packages' own tests share (standard library only)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def run_python(
    code: str, *args: str, timeout: float = 120, pythonpath: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -c CODE ARGS`` in a fresh interpreter of this environment (never raises on failure).

    A fresh process sees imports as a user's program would: nothing this test process loaded
    (a bound ``kubelab_protos.gen``, a patched module) leaks into it. Writes no bytecode.
    ``pythonpath`` puts a folder first (a starter package over the reference, say).
    """
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )


def settled(observe: Callable[[], T], *, quiet: float, timeout: float, interval: float = 0.1, what: str = "") -> T:
    """``observe()`` once it has returned the same value for ``quiet`` seconds (for "nothing more happens"
    checks, e.g. a gang that must stay unbound); AssertionError with the last value after ``timeout``."""
    last: T | None = None
    since = time.monotonic()
    deadline = since + timeout
    while time.monotonic() < deadline:
        now = observe()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return now
        time.sleep(interval)
    raise AssertionError(f"never settled for {quiet:g} s within {timeout:g} s: {what} (last: {last!r})")


def eventually(check: Callable[[], T], timeout: float = 30.0, interval: float = 0.2, what: str = "") -> T:
    """Call ``check()`` until it returns a truthy value (returned) or ``timeout`` passes.

    An ``AssertionError`` from ``check`` counts as "not yet"; the last one (or the last falsy
    value) is in the message of the ``AssertionError`` raised at the deadline. Any other
    exception propagates at once.
    """
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            result = check()
            if result:
                return result
            last = result
        except AssertionError as exc:
            last = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout:.0f} s: {what or getattr(check, '__name__', check)}: {last}")
        time.sleep(interval)
