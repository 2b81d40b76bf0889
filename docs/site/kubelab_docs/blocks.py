"""The fenced code blocks of a Markdown page, in order: what a translation must keep as it is."""

from __future__ import annotations

import re
from dataclasses import dataclass

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")


@dataclass(frozen=True)
class Block:
    info: str  # the info string: "console", "toml", "mermaid", ...
    text: str
    line: int  # 1-based line of the opening fence

    @property
    def language(self) -> str:
        return self.info.split()[0] if self.info.split() else ""


def code_blocks(markdown: str) -> list[Block]:
    """Every fenced block (``` or ~~~, any indentation), with its info string and body."""
    blocks: list[Block] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence, indent = opening["fence"], opening["indent"]
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            closing = FENCE.match(lines[j])
            if (
                closing
                and closing["fence"][0] == fence[0]
                and len(closing["fence"]) >= len(fence)
                and not closing["info"].strip()
            ):
                break
            body.append(lines[j][len(indent) :] if lines[j].startswith(indent) else lines[j])
            j += 1
        blocks.append(Block(info=opening["info"].strip(), text="\n".join(body), line=i + 1))
        i = j + 1
    return blocks
