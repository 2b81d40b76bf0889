"""Which code a run graded: the git commit that holds it (and whether it had uncommitted
changes), and a digest of its files, so two reports of the same commit with different edits
are told apart."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterable
from pathlib import Path

from kubelab_labkit.reports.model import Graded


def files_digest(root: Path, within: Iterable[str] = (), length: int = 16) -> str:
    """sha256 of the files under ``root`` (or under ``root/<each of within>``): relative names and
    bytes, in sorted order, ``__pycache__`` left out. A file ``root`` is its bytes."""
    h = hashlib.sha256()
    if root.is_file():
        h.update(root.read_bytes())
        return h.hexdigest()[:length]
    tops = [root / w for w in within] or [root]
    files = (p for top in tops for p in top.rglob("*"))
    for f in sorted(p for p in files if p.is_file() and "__pycache__" not in p.parts):
        h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:length]


def _git(where: Path, *args: str) -> str | None:
    proc = subprocess.run(["git", "-C", str(where), *args], capture_output=True, text=True, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def git_state(path: Path) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the git work tree holding ``path``; (None, None) outside one."""
    where = path if path.is_dir() else path.parent
    commit = _git(where, "rev-parse", "HEAD")
    if commit is None:
        return None, None
    status = _git(where, "status", "--porcelain", "--untracked-files=all", "--", str(path))
    return commit, bool(status)


def graded(
    *, reference: bool, kind: str | None, path: Path | None, within: Iterable[str] = (), fallback: Path
) -> Graded:
    """The ``graded`` part of a report: ``path`` (a submission), or ``fallback`` (the repository) for
    labs that grade the platform itself."""
    where = path if path is not None else fallback
    commit, dirty = git_state(where)
    digest = files_digest(path, within) if path is not None and path.exists() else None
    return Graded(
        reference=reference, kind=kind, path=str(path) if path else None, commit=commit, dirty=dirty, digest=digest
    )
