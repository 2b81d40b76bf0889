"""Waiting for the cluster to converge, with the last observation in the failure."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


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
