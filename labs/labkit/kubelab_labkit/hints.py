"""``Hint:`` lines: what a checkpoint (or a fixture it needs) tells the student when it fails.

A test's docstring, and a fixture's, may hold lines starting with ``Hint:`` or, naming the
book's sections, ``Hint (3.3.3, 3.3.4):`` (continued by the lines after them up to a blank
line). When a test fails its hints are printed under the
failure; when a fixture fails (the lab's setup: deploying an agent, creating a
namespace), the hints of every fixture in the failing traceback are printed, then the
test's, so a broken setup is explained too.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from types import CodeType
from typing import Any

import pytest

SECTION = "checkpoint hint"
HINT = re.compile(r"^Hint(\s*\([^)]*\))?:")


def from_doc(doc: str | None) -> list[str]:
    """The ``Hint:`` paragraphs of a docstring (a ``Hint:`` line up to the next blank line), each as one line."""
    out: list[str] = []
    current: list[str] = []
    for line in [*inspect.cleandoc(doc or "").splitlines(), ""]:
        line = line.strip()
        if HINT.match(line):
            if current:
                out.append(" ".join(current))
            current = [line]
        elif current and line:
            current.append(line)
        elif current:
            out.append(" ".join(current))
            current = []
    return out


def _fixture_functions(item: pytest.Item) -> Iterable[Callable[..., Any]]:
    info = getattr(item, "_fixtureinfo", None)
    for defs in info.name2fixturedefs.values() if info else ():
        for fixturedef in defs:
            yield fixturedef.func


def for_failure(item: pytest.Item, excinfo: pytest.ExceptionInfo[BaseException] | None, when: str) -> list[str]:
    """The hints to show for a failure of ``item`` in phase ``when`` (setup, call, teardown)."""
    hints: list[str] = []
    if when != "call" and excinfo is not None:
        by_code: dict[CodeType, Callable[..., Any]] = {}
        for func in _fixture_functions(item):
            code = getattr(inspect.unwrap(func), "__code__", None)
            if code is not None:
                by_code[code] = func
        for entry in excinfo.traceback:
            fixture = by_code.get(entry.frame.code.raw)
            if fixture is not None:
                hints += [f"(fixture {fixture.__name__}) {h}" for h in from_doc(fixture.__doc__)]
    test = getattr(item, "function", None)
    hints += from_doc(getattr(test, "__doc__", None))
    return list(dict.fromkeys(hints))
