"""Filesystem changes a reader never sees half-done: each is one ``rename(2)``.

- :func:`atomic_write`: write a file beside its target, then rename it over the target.
- :func:`swap_symlink`: point a symlink elsewhere in one step (the old target stays intact).
- :func:`staged_dir`: build a directory under a temporary name, then rename it into place;
  a content-keyed target (``<name>/<version>-<key>/``) that exists already is kept.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _sibling(path: Path, tag: str) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{tag}")


def atomic_write(path: Path, data: str | bytes, *, mode: int | None = None) -> bool:
    """Make ``path`` hold ``data`` (creating parents). Returns False, touching nothing, when it already did."""
    raw = data.encode() if isinstance(data, str) else data
    try:
        same = path.read_bytes() == raw and (mode is None or (path.stat().st_mode & 0o7777) == mode)
    except OSError:
        same = False
    if same:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling(path, "tmp")
    try:
        tmp.write_bytes(raw)
        if mode is not None:
            tmp.chmod(mode)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return True


def swap_symlink(link: Path, target: str | Path) -> bool:
    """Make ``link`` a symlink to ``target`` in one rename. Returns False when it already was one.

    A real directory at ``link`` (a first install before symlinks were used) is removed first.
    """
    target = str(target)
    if link.is_symlink() and os.readlink(link) == target:
        return False
    link.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling(link, "link")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    if link.is_dir() and not link.is_symlink():
        shutil.rmtree(link)
    os.replace(tmp, link)
    return True


@contextmanager
def staged_dir(target: Path, *, replace: bool = False) -> Iterator[Path]:
    """Yield an empty directory beside ``target``; when the body succeeds it becomes ``target``.

    If the body raises, the staging directory is removed and ``target`` is untouched. When
    ``target`` exists already (a content-keyed directory another run finished first), the
    staged copy is dropped, unless ``replace`` is set, in which case the old one is
    renamed away and removed after the swap.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".staging", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes 0700; the target is an ordinary shared folder (a cache entry)
    try:
        yield staging
        if target.exists() and not replace:
            return
        old = _sibling(target, "old") if target.exists() else None
        if old is not None:
            os.replace(target, old)
        os.replace(staging, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
