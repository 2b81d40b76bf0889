"""What a checkpoint shows, kept for the guides: the real output a guide's block must match.

A checkpoint calls :func:`capture` with a name (``cni/commands``) and the text it prints; the
text lands in the cache, one folder per checkout. A guide marks the block that shows it with
``<!-- output: cni/commands -->`` on the line before the fence, and ``kubelab-docs outputs``
(run by ``nox -s docs``; in CI after the labs, with every capture required) compares the two,
so a changed message cannot leave a stale page; ``--write`` puts the captures into the pages.
"""

from __future__ import annotations

import re
from pathlib import Path

from kubelab_cluster.cache import cache_root, checkout_key
from kubelab_kit.files import atomic_write

NAME = re.compile(r"^[a-z0-9-]+/[a-z0-9.-]+$")


def captures_dir() -> Path:
    """``<cache>/docs/outputs-<checkout>``: a lab run of this checkout writes here."""
    return cache_root() / "docs" / f"outputs-{checkout_key()}"


def capture_path(name: str) -> Path:
    if not NAME.match(name):
        raise ValueError(f"output name {name!r} is not <lab>/<what> (lowercase, digits, - and .)")
    return captures_dir() / f"{name}.txt"


def capture(name: str, text: str) -> Path:
    """Keep ``text`` as the output ``name`` (and print it: ``-s`` shows it as the guide does)."""
    text = text.rstrip("\n") + "\n"
    print(text, end="")
    path = capture_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text)
    return path
