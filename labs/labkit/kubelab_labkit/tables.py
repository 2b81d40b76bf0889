"""The lab table, generated from the registry, between markers in README.md and docs/index.md,
and in Chinese in their translations README.zh.md and docs/index.zh.md.

``kubelab-labs table --write`` rewrites the text between ``<!-- labs:begin -->`` and
``<!-- labs:end -->``; ``--check`` (run by ``nox -s lint``) fails when a page differs, so
the table can never disagree with ``lab.toml``.
"""

from __future__ import annotations

import os
from pathlib import Path

from kubelab_cluster.pins import repo_root
from kubelab_labkit.registry import Lab, Status, checkpoint_counts, load_labs

BEGIN, END = "<!-- labs:begin -->", "<!-- labs:end -->"
PAGES = {"README.md": "en", "docs/index.md": "en", "README.zh.md": "zh", "docs/index.zh.md": "zh"}
HEADERS = {
    "en": ("Ch.", "Book topic", "Sections", "Lab", "Session", "Status"),
    "zh": ("章", "书中主题", "小节", "实验", "会话", "状态"),
}
ZH_STATUS = {Status.DONE: "完成", Status.IN_PROGRESS: "进行中", Status.PLANNED: "计划中"}


def _guide(lab: Lab, language: str) -> Path | None:
    if not lab.guide:
        return None
    guide = repo_root() / lab.guide
    translated = guide.with_name(f"{guide.stem}.{language}{guide.suffix}")
    return translated if language != "en" and translated.is_file() else guide


def _link(lab: Lab, page: Path, language: str = "en") -> str:
    guide = _guide(lab, language)
    if guide is None:
        return lab.name
    return f"[{lab.name}]({os.path.relpath(guide, page.parent)})"


def _status(lab: Lab, count: int) -> str:
    if lab.status is Status.PLANNED:
        said = [f"issue {lab.issue}"] if lab.issue else []
        said += [lab.note] if lab.note else []  # how far the work is
        return f"planned ({'; '.join(said)})" if said else "planned"
    details = []
    if count:
        details.append(f"{count} checkpoints")
    if lab.impl:
        details.append(f"`--impl`: {lab.impl.kind.value}")
    if lab.note:
        details.append(lab.note)
    return f"{lab.status.value} ({'; '.join(details)})" if details else lab.status.value


def _status_zh(lab: Lab, count: int) -> str:
    details = []
    if lab.status is Status.PLANNED and lab.issue:
        details.append(f"issue {lab.issue}")
    if count:
        details.append(f"{count} 个检查点")
    if lab.impl:
        details.append(f"`--impl`：{lab.impl.kind.value}")
    if lab.zh and lab.zh.note:
        details.append(lab.zh.note)
    status = ZH_STATUS[lab.status]
    return f"{status}（{'；'.join(details)}）" if details else status


def table(page: Path, labs: list[Lab] | None = None, counts: dict[str, int] | None = None, language: str = "en") -> str:
    headers = HEADERS[language]
    rows = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    labs = labs if labs is not None else load_labs()
    counts = counts if counts is not None else checkpoint_counts(labs)
    for lab in labs:
        chapter = str(lab.chapter) if lab.chapter else "–"
        sections = ", ".join(lab.sections) or "–"
        if language == "en":
            title, status = lab.title, _status(lab, counts[lab.name])
        else:
            title, status = (lab.zh.title if lab.zh else lab.title), _status_zh(lab, counts[lab.name])
        link = _link(lab, page, language)
        rows.append(f"| {chapter} | {title} | {sections} | {link} | `nox -s {lab.session}` | {status} |")
    return "\n".join(rows)


def render_page(
    text: str, page: Path, labs: list[Lab] | None = None, counts: dict[str, int] | None = None, language: str = "en"
) -> str:
    """``text`` with the table between the markers regenerated (``ValueError`` without the markers)."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"{page}: no {BEGIN} ... {END} markers for the lab table")
    return text[: start + len(BEGIN)] + "\n" + table(page, labs, counts, language) + "\n" + text[end:]


def stale_pages(write: bool) -> list[Path]:
    """Pages whose table differs from the registry (rewritten when ``write``)."""
    stale = []
    labs = load_labs()
    counts = checkpoint_counts(labs)
    for name, language in PAGES.items():
        page = repo_root() / name
        if not page.is_file() and language != "en":
            continue  # a translation not written yet: the docs check names it
        text = page.read_text()
        fresh = render_page(text, page, labs, counts, language)
        if fresh != text:
            stale.append(page)
            if write:
                page.write_text(fresh)
    return stale
