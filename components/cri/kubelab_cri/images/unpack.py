"""Unpacking a layer (a tar, gzip or not) into a directory in overlayfs's form (book 4.4).

A layer records deletions as whiteouts: ``.wh.NAME`` deletes NAME from the layers below,
``.wh..wh..opq`` in a directory hides everything below it in that directory. overlayfs reads
them as a character device 0:0 named NAME and the xattr ``trusted.overlay.opaque=y`` on the
directory, so that is what they become; the layer directories then stack as ``lowerdir``s.
Entries that would land outside the directory (absolute paths, ``..``, links pointing out)
are refused: a layer is untrusted input.
"""

from __future__ import annotations

import os
import stat
import tarfile
from pathlib import Path
from typing import Any

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"


class LayerError(ValueError):
    """A layer that cannot be unpacked safely; nothing of it should be used."""


def _inside(root: Path, name: str) -> Path:
    path = (root / name.lstrip("/")).resolve()
    if path != root and root not in path.parents:
        raise LayerError(f"layer entry {name!r} would land outside the layer")
    return path


# Every entry was checked above; Python >= 3.11.4 also wants to be told (the node's Debian 3.11.2
# has no extraction filters at all, and behaves as "fully_trusted").
TRUSTED: dict[str, Any] = {"filter": "fully_trusted"} if hasattr(tarfile, "data_filter") else {}


def unpack(layer: Path, dest: Path) -> int:
    """Unpack ``layer`` into ``dest`` (created); the number of bytes of its regular files."""
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    size = 0
    with tarfile.open(layer, "r:*") as tar:
        for member in tar:
            head, _, base = member.name.rstrip("/").rpartition("/")
            if base == OPAQUE:
                directory = _inside(root, head)
                directory.mkdir(parents=True, exist_ok=True)
                os.setxattr(directory, "trusted.overlay.opaque", b"y")
                continue
            if base.startswith(WHITEOUT):
                target = _inside(root, f"{head}/{base[len(WHITEOUT) :]}")
                target.parent.mkdir(parents=True, exist_ok=True)
                os.mknod(target, stat.S_IFCHR | 0o000, os.makedev(0, 0))
                continue
            _inside(root, member.name)
            if member.issym() and member.linkname.startswith("/"):
                pass  # absolute symlinks point inside the container's root, not ours: kept as they are
            elif member.islnk():
                _inside(root, member.linkname)
            if member.isfile():
                size += member.size
            tar.extract(member, root, set_attrs=True, numeric_owner=True, **TRUSTED)
    return size
