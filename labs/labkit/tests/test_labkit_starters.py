"""Starters from solution markers: regions replaced, a header added, bad markers refused."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from kubelab_labkit.starters import MarkerError, generate_all, starter_text, strip_solutions

REFERENCE = '''"""A module.

More.
"""


def f(x: int) -> int:
    # >>> solution 9.1
    """Double it."""
    return 2 * x
    # === starter
    # """TODO(9.1): double it."""
    #
    # raise NotImplementedError("TODO(9.1)")
    # <<< solution


def g() -> int:
    return 1
'''


def test_regions_become_their_starter_lines(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(REFERENCE)
    gen = starter_text(source)
    assert gen.exercises == ["9.1"]
    header = "STARTER (chapter 9.1): one TODO below, marked ``TODO(9.1)``. Everything else works."
    assert gen.text.startswith(f'"""{header}\n\nA module.')
    assert "return 2 * x" not in gen.text and "# >>>" not in gen.text
    assert '    """TODO(9.1): double it."""\n\n    raise NotImplementedError("TODO(9.1)")\n' in gen.text
    assert "def g() -> int:\n    return 1\n" in gen.text
    ast.parse(gen.text)
    ns: dict[str, object] = {}
    exec(compile(gen.text, "starter", "exec"), ns)
    with pytest.raises(NotImplementedError):
        ns["f"](1)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x = 1\n    # === starter\n", "outside a solution region"),
        ("# >>> solution 1\nx = 1\n# <<< solution\n", "no '# === starter' part"),
        ("# >>> solution 1\nx = 1\n# === starter\n# x = 2\n", "never closed"),
        ("# >>> solution 1\nx = 1\n# === starter\nx = 2\n# <<< solution\n", "must be a comment"),
        ("# >>> solution 1\n# >>> solution 2\n", "do not nest"),
        ("def f():\n    # >>> solution 1\n    pass\n# === starter\n", "not at the indentation"),
    ],
)
def test_bad_markers_are_refused_with_the_line(text: str, message: str) -> None:
    with pytest.raises(MarkerError, match=message):
        strip_solutions(text, "m.py")


def test_committed_starters_match_the_reference() -> None:
    done, stale = generate_all(write=False)
    assert done and not stale, stale
