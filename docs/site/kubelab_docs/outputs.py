"""The guides' output blocks against what the checkpoints printed (:mod:`kubelab_labkit.outputs`).

A block marked ``<!-- output: NAME -->`` (on the line before its fence) holds a command line
(``$ ...``) and the output; the output must equal the capture NAME of the last lab run of this
checkout once the values that change from run to run are masked (addresses, MACs, hex IDs,
resourceVersions, durations, timestamps). Words, order and structure must not change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kubelab_docs.blocks import Block, code_blocks
from kubelab_labkit.outputs import capture_path

MARKER = re.compile(r"^<!--\s*output:\s*(\S+)\s*-->\s*$")
MASKS = (
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d([.,]\d+)?Z?"), "<time>"),
    (re.compile(r"\b([0-9a-f]{2}:){5}[0-9a-f]{2}\b"), "<mac>"),
    (re.compile(r"\b\d{1,3}(\.\d{1,3}){3}(/\d{1,2})?\b"), "<ip>"),
    (re.compile(r"[0-9a-f]{8,}"), "<hex>"),
    (re.compile(r"\brv=\d+"), "rv=<n>"),
    (re.compile(r"\(\d+:\d\d:\d\d\)"), "(<h:mm:ss>)"),
    (re.compile(r"\b\d+(\.\d+)?\s?(ms|s)\b"), "<duration>"),
)


@dataclass(frozen=True)
class Marked:
    name: str
    block: Block

    @property
    def command(self) -> str:
        first = self.block.text.split("\n", 1)[0]
        return first if first.startswith("$ ") else ""

    @property
    def output(self) -> str:
        if self.command:
            return self.block.text.split("\n", 1)[1] if "\n" in self.block.text else ""
        return self.block.text


def marked_blocks(markdown: str) -> list[Marked]:
    lines = markdown.splitlines()
    out = []
    for block in code_blocks(markdown):
        above = lines[block.line - 2] if block.line >= 2 else ""
        if match := MARKER.match(above.strip()):
            out.append(Marked(match[1], block))
    return out


def masked(text: str) -> str:
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    return "\n".join(re.sub(r"[ \t]+", " ", line).rstrip() for line in text.strip("\n").splitlines())


@dataclass(frozen=True)
class Finding:
    page: Path
    name: str
    problem: str

    def __str__(self) -> str:
        return f"{self.page}: output {self.name}: {self.problem}"


def _first_difference(page_text: str, captured: str) -> str:
    ours, theirs = masked(page_text).splitlines(), masked(captured).splitlines()
    for number, (a, b) in enumerate(zip(ours, theirs, strict=False), start=1):
        if a != b:
            return f"line {number}: the page says {a!r}, the checkpoint printed {b!r}"
    return f"the page has {len(ours)} lines, the checkpoint printed {len(theirs)}"


def check(pages: list[Path], root: Path, require: bool) -> tuple[list[Finding], int, list[str]]:
    """(findings, blocks compared, captures missing) over ``pages`` (relative to ``root``)."""
    findings: list[Finding] = []
    compared, missing = 0, []
    for page in pages:
        for marked in marked_blocks((root / page).read_text()):
            try:
                path = capture_path(marked.name)
            except ValueError as exc:
                findings.append(Finding(page, marked.name, str(exc)))
                continue
            if not path.is_file():
                missing.append(marked.name)
                if require:
                    findings.append(Finding(page, marked.name, f"no capture ({path}): run the lab that prints it"))
                continue
            compared += 1
            captured = path.read_text()
            if masked(marked.output) != masked(captured):
                findings.append(Finding(page, marked.name, _first_difference(marked.output, captured)))
    return findings, compared, sorted(set(missing))


def write(pages: list[Path], root: Path) -> list[Path]:
    """Put each capture into its marked blocks (the command line kept); returns the pages rewritten."""
    rewritten = []
    for page in pages:
        text = (root / page).read_text()
        lines = text.splitlines(keepends=True)
        changed = False
        for marked in reversed(marked_blocks(text)):
            path = capture_path(marked.name)
            if not path.is_file():
                continue
            body = ([marked.command + "\n"] if marked.command else []) + path.read_text().splitlines(keepends=True)
            start = marked.block.line  # index of the first body line (the fence is line - 1)
            end = start + len(marked.block.text.splitlines())
            if lines[start:end] != body:
                lines[start:end] = body
                changed = True
        if changed:
            (root / page).write_text("".join(lines))
            rewritten.append(page)
    return rewritten
