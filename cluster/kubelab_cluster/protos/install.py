"""Putting a fresh generation in place without disturbing anything else in the output folder.

Only files whose bytes changed are rewritten (each atomically, with
:func:`kubelab_kit.files.atomic_write`), files the previous generation made and this
one does not are removed, and nothing the stamp does not list is ever deleted.

Two files mark a generation, and both go in last:

- the package's root ``__init__.py`` is what the stubs package checks ("generated or
  not"), so an interrupted first generation leaves a folder it still calls missing;
- the generator's own stamp is removed first and written last (by
  :func:`kubelab_cluster.protos.generate.generate`), so an interrupted run leaves no
  stamp and the next run regenerates.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from kubelab_cluster.protos.stamp import STAMP_NAME
from kubelab_kit.files import atomic_write

PACKAGE_MARKER = "__init__.py"  # the root one: written last


def _write(source: Path, target: Path) -> bool:
    """Make ``target`` hold ``source``'s bytes; False (nothing touched) when it already did."""
    if not atomic_write(target, source.read_bytes()):
        return False
    # The bytecode cache keys on mtime (seconds) and size: drop it so a same-second rewrite is seen.
    for pyc in (target.parent / "__pycache__").glob(f"{target.stem}.*.pyc"):
        pyc.unlink(missing_ok=True)
    return True


def _remove(out_root: Path, name: str) -> None:
    """Remove one file of the previous generation, and the folders it leaves empty."""
    (out_root / name).unlink()
    for parent in (out_root / name).parents:
        if parent == out_root or not parent.is_relative_to(out_root):
            break
        shutil.rmtree(parent / "__pycache__", ignore_errors=True)
        if any(parent.iterdir()):
            break
        parent.rmdir()


def install(fresh: Path, out_root: Path, previous: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Make ``out_root`` hold exactly the files of ``fresh``; returns (files, written, removed), each sorted."""
    files = sorted(p.relative_to(fresh).as_posix() for p in fresh.rglob("*") if p.is_file())
    out_root.mkdir(parents=True, exist_ok=True)
    (out_root / STAMP_NAME).unlink(missing_ok=True)
    in_order = [name for name in files if name != PACKAGE_MARKER] + [n for n in files if n == PACKAGE_MARKER]
    written = sorted(name for name in in_order if _write(fresh / name, out_root / name))
    removed = [name for name in previous if name not in set(files) and (out_root / name).is_file()]
    for name in removed:
        _remove(out_root, name)
    return files, written, removed
