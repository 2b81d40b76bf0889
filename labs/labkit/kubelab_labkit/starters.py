"""Starters generated from the reference solution by solution markers.

In a reference module, an exercise is a region of whole lines::

        # >>> solution 2.7
        self.stats.gone += 1                       # the reference: dropped from the starter
        return 0.0 if self._progress else ...
        # === starter
        # raise NotImplementedError("TODO(2.7): ...")   # the starter: these lines, uncommented
        # <<< solution

The markers' indentation is the region's; starter lines are comments at that indentation
(``# `` removed, a bare ``#`` becomes an empty line). The starter module is the reference
with every region replaced and a first docstring line saying what is left to write;
it must still parse. ``kubelab-labs starters`` writes every ``[[starter]]`` of every
lab.toml; ``--check`` (in ``nox -s lint``) fails when a committed starter differs.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from kubelab_cluster.pins import repo_root
from kubelab_labkit.registry import load_labs

OPEN = re.compile(r"^(?P<indent>\s*)# >>> solution (?P<id>[\w.-]+)\s*$")
SWITCH = re.compile(r"^(?P<indent>\s*)# === starter\s*$")
CLOSE = re.compile(r"^(?P<indent>\s*)# <<< solution\s*$")
NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


class MarkerError(ValueError):
    pass


@dataclass(frozen=True)
class Generated:
    source: Path
    target: Path
    text: str
    exercises: list[str]


def strip_solutions(text: str, name: str = "<module>") -> tuple[str, list[str]]:
    """``text`` with every solution region replaced by its starter lines; also the region ids, in order."""
    out: list[str] = []
    ids: list[str] = []
    state, indent, opened = "code", "", 0
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        body = line.rstrip("\n")
        if state == "code":
            m = OPEN.match(body)
            if m:
                state, indent, opened = "solution", m.group("indent"), number
                ids.append(m.group("id"))
            elif SWITCH.match(body) or CLOSE.match(body):
                raise MarkerError(f"{name}:{number}: a marker outside a solution region")
            else:
                out.append(line)
        elif state == "solution":
            m = SWITCH.match(body)
            if m:
                if m.group("indent") != indent:
                    raise MarkerError(f"{name}:{number}: '# === starter' not at the indentation of line {opened}")
                state = "starter"
            elif CLOSE.match(body):
                raise MarkerError(f"{name}:{number}: region of line {opened} has no '# === starter' part")
            elif OPEN.match(body):
                raise MarkerError(f"{name}:{number}: regions do not nest (line {opened} is still open)")
        else:
            m = CLOSE.match(body)
            if m:
                if m.group("indent") != indent:
                    raise MarkerError(f"{name}:{number}: '# <<< solution' not at the indentation of line {opened}")
                state = "code"
            elif body.strip() == "#" and body.startswith(indent):
                out.append("\n")
            elif body.startswith(f"{indent}# "):
                out.append(indent + body[len(indent) + 2 :] + "\n")
            else:
                raise MarkerError(f"{name}:{number}: a starter line must be a comment at the region's indentation")
    if state != "code":
        raise MarkerError(f"{name}:{opened}: solution region never closed")
    return "".join(out), ids


def _header(ids: list[str]) -> str:
    chapters = sorted(set(ids))
    count = len(ids)
    word = NUMBERS[count] if count < len(NUMBERS) else str(count)
    todo = "TODO" if count == 1 else "TODOs"
    marks = ", ".join(f"``TODO({c})``" for c in chapters)
    return f"STARTER (chapter {', '.join(chapters)}): {word} {todo} below, marked {marks}. Everything else works.\n\n"


def starter_text(source: Path) -> Generated:
    text, ids = strip_solutions(source.read_text(), str(source))
    if not ids:
        raise MarkerError(f"{source}: no solution regions: nothing for a student to write")
    tree = ast.parse(text, filename=str(source))
    doc = ast.get_docstring(tree, clean=False)
    first = tree.body[0] if tree.body else None
    if doc is None or not isinstance(first, ast.Expr):
        raise MarkerError(f"{source}: a starter's module needs a docstring (the header goes there)")
    lines = text.splitlines(keepends=True)
    opening = lines[first.lineno - 1]
    quote = opening.find('"""')
    lines[first.lineno - 1] = opening[: quote + 3] + _header(ids) + opening[quote + 3 :]
    generated = "".join(lines)
    try:
        ast.parse(generated, filename=str(source))
    except SyntaxError as exc:
        raise MarkerError(f"{source}: the starter does not parse: {exc}") from exc
    return Generated(source, source, generated, ids)


def generate_all(write: bool) -> tuple[list[Generated], list[Path]]:
    """Every lab's starters; returns them and the targets that differ (rewritten when ``write``)."""
    root = repo_root()
    done, stale = [], []
    for lab in load_labs():
        for entry in lab.starter:
            source, target = root / entry.source, root / entry.target
            gen = starter_text(source)
            gen = Generated(source, target, gen.text, gen.exercises)
            done.append(gen)
            if not target.is_file() or target.read_text() != gen.text:
                stale.append(target)
                if write:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(gen.text)
    return done, stale
