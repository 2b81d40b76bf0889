"""Console entry points: one way to report a :class:`~kubelab_kit.errors.KubelabError`.

Decorate ``main`` with :func:`entry_point`: a ``KubelabError`` is printed, rendered, to
stderr and becomes its exit code (1 unless the error says otherwise); Ctrl-C exits 130
without a traceback. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec

from kubelab_kit.errors import KubelabError

P = ParamSpec("P")


def report(exc: KubelabError) -> int:
    """Print the error as every entry point does; returns the exit code."""
    print(exc.render(), file=sys.stderr, flush=True)
    return exc.exit_code


def entry_point(main: Callable[P, int | None]) -> Callable[P, int]:
    @functools.wraps(main)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> int:
        try:
            return main(*args, **kwargs) or 0
        except KubelabError as exc:
            return report(exc)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130

    return wrapper
