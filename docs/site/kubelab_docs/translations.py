"""Every English page has its Chinese counterpart, with the same commands and code blocks.

A translation changes the prose only: each fenced block of ``X.md`` appears in ``X.zh.md``
in the same order and byte for byte (a command, its output, a manifest), except that the
labels of a ``mermaid`` diagram are translated (the diagram itself must be there). The
generated lab table and other markers (``<!-- ... -->``) must be there too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kubelab_docs.blocks import Block, code_blocks
from kubelab_docs.site import TRANSLATED, counterpart

TRANSLATED_BLOCKS = {"mermaid"}  # blocks whose text is prose (labels), translated with the page
MARKER = re.compile(r"<!--\s*(.+?)\s*-->")


@dataclass(frozen=True)
class Finding:
    page: Path
    problem: str

    def __str__(self) -> str:
        return f"{self.page}: {self.problem}"


def _describe(block: Block) -> str:
    first = block.text.splitlines()[0] if block.text else ""
    return f"```{block.info} block at line {block.line} ({first[:60]!r})"


def compare(english: str, translated: str, page: Path) -> list[Finding]:
    """What differs between a page and its translation, beyond the prose."""
    findings: list[Finding] = []
    ours, theirs = code_blocks(english), code_blocks(translated)
    for index, block in enumerate(ours):
        if index >= len(theirs):
            findings.append(Finding(page, f"the translation lacks the {_describe(block)} and every block after it"))
            break
        other = theirs[index]
        if block.language != other.language:
            findings.append(
                Finding(page, f"block {index + 1}: {_describe(block)} became ```{other.info} (line {other.line})")
            )
            break
        if block.language not in TRANSLATED_BLOCKS and block.text != other.text:
            findings.append(
                Finding(
                    page, f"block {index + 1}: the {_describe(block)} differs in the translation (line {other.line})"
                )
            )
    if len(theirs) > len(ours):
        findings.append(Finding(page, f"the translation has {len(theirs) - len(ours)} more code blocks"))
    if MARKER.findall(english) != MARKER.findall(translated):
        findings.append(
            Finding(page, f"markers differ: {MARKER.findall(english)} in English, {MARKER.findall(translated)}")
        )
    return findings


def check(pages: list[Path], root: Path, language: str = TRANSLATED) -> list[Finding]:
    """Each English page (paths relative to ``root``) against its counterpart in ``language``."""
    findings: list[Finding] = []
    for page in pages:
        other = counterpart(page, language)
        if not (root / other).is_file():
            findings.append(Finding(page, f"no {language} counterpart ({other})"))
            continue
        findings += compare((root / page).read_text(), (root / other).read_text(), page)
    return findings
