"""Run until SIGTERM or SIGINT: the one shutdown path of every daemon and controller.

``stop = stop_on_signals()`` returns an :class:`threading.Event` that the first signal
sets; loops wait on it (``stop.wait(period)``) and return. A second signal while
stopping raises :class:`KeyboardInterrupt`, for a process stuck in its shutdown.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

log = logging.getLogger(__name__)
SIGNALS = (signal.SIGTERM, signal.SIGINT)


def stop_on_signals(
    stop: threading.Event | None = None, on_stop: Callable[[int], None] | None = None
) -> threading.Event:
    """Install handlers (main thread only) that set ``stop``; returns it."""
    event = stop or threading.Event()

    def handler(signum: int, _frame: FrameType | None) -> None:
        if event.is_set():
            raise KeyboardInterrupt
        log.info("%s: stopping", signal.Signals(signum).name)
        event.set()
        if on_stop is not None:
            on_stop(signum)

    for sig in SIGNALS:
        signal.signal(sig, handler)
    return event


def run_until_signalled(run: Callable[[threading.Event], object], stop: threading.Event | None = None) -> None:
    """Call ``run(stop)`` with an event the first SIGTERM/SIGINT sets; ``run`` returns once it is set."""
    run(stop_on_signals(stop))
