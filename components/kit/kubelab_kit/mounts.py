"""The mount table, read and changed through ``mount(8)``: what a runtime and a storage driver share.

- :func:`mounts`: the mounts of this mount namespace (``/proc/self/mountinfo``, with its octal
  escapes decoded), in mount order: each one's root within its filesystem, mount point, type and
  source (a bind mount of a subdirectory shows that subdirectory as its root);
- :func:`mount_points`: just their mount points;
- :func:`is_mounted`: whether a path is a mount point;
- :func:`mount` / :func:`unmount`: ``mount(8)`` and ``umount(8)`` with the command's own error
  in a :class:`MountError`; :func:`unmount` removes every mount stacked on the path (a path
  mounted twice needs two) and is a no-op on a path that is not mounted.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kubelab_kit.errors import KubelabError

MOUNTINFO = Path("/proc/self/mountinfo")
_ESCAPE = re.compile(r"\\([0-7]{3})")


class MountError(KubelabError):
    area = "mount"


def _decode(field: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), field)


@dataclass(frozen=True)
class Mount:
    root: str  # the directory of the filesystem mounted here ("/" unless a bind of a subdirectory)
    point: str
    fstype: str
    source: str


def mounts(mountinfo: Path = MOUNTINFO) -> list[Mount]:
    """Every mount, in the order mounted (a path mounted twice appears twice)."""
    try:
        lines = mountinfo.read_text().splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        fields = line.split()
        if len(fields) < 10 or "-" not in fields[6:]:
            continue
        dash = fields.index("-", 6)
        found.append(Mount(_decode(fields[3]), _decode(fields[4]), fields[dash + 1], _decode(fields[dash + 2])))
    return found


def mount_points(mountinfo: Path = MOUNTINFO) -> list[str]:
    """Every mount point, in the order mounted (a path mounted twice appears twice)."""
    return [m.point for m in mounts(mountinfo)]


def is_mounted(path: str | Path) -> bool:
    target = str(Path(path).resolve())
    return target in mount_points()


def mount(source: str | Path, target: str | Path, *, options: Sequence[str] = (), fstype: str = "") -> None:
    argv = ["mount"]
    if fstype:
        argv += ["-t", fstype]
    if options:
        argv += ["-o", ",".join(options)]
    argv += [str(source), str(target)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise MountError(f"mounting {source} on {target} failed", command=argv, output=done.stderr or done.stdout)


def unmount(target: str | Path) -> None:
    """Unmount everything mounted on ``target``; nothing to do when it is no mount point."""
    while is_mounted(target):
        argv = ["umount", str(target)]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise MountError(f"unmounting {target} failed", command=argv, output=done.stderr or done.stdout)
