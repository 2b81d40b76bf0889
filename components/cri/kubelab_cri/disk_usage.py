"""Disk usage of a directory tree, as ``du`` counts it: allocated blocks (``st_blocks`` x 512, as
containerd's snapshotters report usage) and entries. Shared by ImageFsInfo (the image store) and
ContainerStats (a container's writable layer). Standard library only."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def walk_usage(top: Path, device: int | None = None, skip: Path | None = None) -> tuple[int, int]:
    """Bytes allocated to the regular files below ``top`` and the number of entries, symlinks not
    followed; directories on another device than ``device`` (default: ``top``'s; mounts, such as a
    running container's merged root) and ``skip`` are counted but not entered."""
    try:
        device = top.stat().st_dev if device is None else device
    except OSError:
        return 0, 0
    total = inodes = 0
    stack = [str(top)]
    while stack:
        try:
            entries = os.scandir(stack.pop())
        except OSError:  # removed meanwhile, or unreadable
            continue
        with entries:
            for entry in entries:
                inodes += 1
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISDIR(st.st_mode):
                    if st.st_dev == device and entry.path != str(skip):
                        stack.append(entry.path)
                elif stat.S_ISREG(st.st_mode):
                    total += st.st_blocks * 512
    return total, inodes
