"""One logging setup for daemons and tools: timestamped lines on stderr, level by ``-v``."""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname).1s %(name)s: %(message)s"


def setup_logging(
    verbose: bool | int = False,
    *,
    quiet: bool = False,
    fmt: str = FORMAT,
    handler: logging.Handler | None = None,
    level_name: str | None = None,
) -> None:
    """INFO by default, DEBUG with ``verbose``, WARNING with ``quiet``, or ``level_name`` ("debug",
    "info", "warning", "error": a daemon's ``--log-level``); replaces earlier handlers.

    ``handler`` replaces the stderr stream handler (e.g. rich's ``RichHandler`` in a terminal tool,
    which then formats the message itself).
    """
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    if level_name:
        level = logging.getLevelName(level_name.upper())
    if handler is not None:
        logging.basicConfig(level=level, format="%(message)s", handlers=[handler], force=True)
    else:
        logging.basicConfig(level=level, format=fmt, stream=sys.stderr, force=True)
