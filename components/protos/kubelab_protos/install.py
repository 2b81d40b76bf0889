"""Putting a fresh generation in place without disturbing anything else in the output folder.

Only files whose bytes changed are rewritten (each atomically), files the previous
generation made and this one does not are removed, and nothing the stamp does not
list is ever deleted. The stamp is removed first and written last, so an interrupted
run leaves no stamp and the next run regenerates.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from kubelab_protos.layout import STAMP_NAME


def _replace(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)
    # The bytecode cache keys on mtime (seconds) and size: drop it so a same-second rewrite is seen.
    for pyc in (target.parent / "__pycache__").glob(f"{target.stem}.*.pyc"):
        pyc.unlink(missing_ok=True)


def install(fresh: Path, out_root: Path, previous: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Make ``out_root`` hold exactly the files of ``fresh``; returns (files, written, removed)."""
    files = sorted(p.relative_to(fresh).as_posix() for p in fresh.rglob("*") if p.is_file())
    out_root.mkdir(parents=True, exist_ok=True)
    (out_root / STAMP_NAME).unlink(missing_ok=True)
    written = []
    for name in files:
        source, target = fresh / name, out_root / name
        if not target.is_file() or target.read_bytes() != source.read_bytes():
            _replace(source, target)
            written.append(name)
    removed = [name for name in previous if name not in set(files) and (out_root / name).is_file()]
    for name in removed:
        (out_root / name).unlink()
        for parent in (out_root / name).parents:
            if parent == out_root or not parent.is_relative_to(out_root):
                break
            shutil.rmtree(parent / "__pycache__", ignore_errors=True)
            if any(parent.iterdir()):
                break
            parent.rmdir()
    return files, written, removed
