"""The lab table, generated from the registry, between markers in README.md and docs/index.md.

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
PAGES = ("README.md", "docs/index.md")


def _link(lab: Lab, page: Path) -> str:
    if not lab.guide:
        return lab.name
    target = os.path.relpath(repo_root() / lab.guide, page.parent)
    return f"[{lab.name}]({target})"


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


def table(page: Path, labs: list[Lab] | None = None, counts: dict[str, int] | None = None) -> str:
    rows = [
        "| Ch. | Book topic | Sections | Lab | Session | Status |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    labs = labs if labs is not None else load_labs()
    counts = counts if counts is not None else checkpoint_counts(labs)
    for lab in labs:
        chapter = str(lab.chapter) if lab.chapter else "–"
        sections = ", ".join(lab.sections) or "–"
        status = _status(lab, counts[lab.name])
        rows.append(
            f"| {chapter} | {lab.title} | {sections} | {_link(lab, page)} | `nox -s {lab.session}` | {status} |"
        )
    return "\n".join(rows)


def render_page(text: str, page: Path, labs: list[Lab] | None = None, counts: dict[str, int] | None = None) -> str:
    """``text`` with the table between the markers regenerated (``ValueError`` without the markers)."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"{page}: no {BEGIN} ... {END} markers for the lab table")
    return text[: start + len(BEGIN)] + "\n" + table(page, labs, counts) + "\n" + text[end:]


def stale_pages(write: bool) -> list[Path]:
    """Pages whose table differs from the registry (rewritten when ``write``)."""
    stale = []
    labs = load_labs()
    counts = checkpoint_counts(labs)
    for name in PAGES:
        page = repo_root() / name
        text = page.read_text()
        fresh = render_page(text, page, labs, counts)
        if fresh != text:
            stale.append(page)
            if write:
                page.write_text(fresh)
    return stale
