"""The btrfs operations the driver needs, one ``btrfs`` command each (btrfs-progs 6.2, Debian 12).

Measured on this kernel (see the README): a qgroup limit on a subvolume's *referenced* bytes
stops writes at the limit with EDQUOT; snapshots (read-only or writable) share extents with
their source and copy its limit; deleting a subvolume drops its qgroup.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kubelab_csi.storage.commands import run

BTRFS_SUPER_MAGIC = 0x9123683E


def is_btrfs(path: Path) -> bool:
    """Whether ``path`` is on btrfs (``statfs``'s f_type, read through ``stat -f``)."""
    return int(run(["stat", "-f", "-c", "%t", str(path)], what="stat -f").strip(), 16) == BTRFS_SUPER_MAGIC


def mkfs(device: Path, label: str) -> None:
    run(["mkfs.btrfs", "-q", "-f", "-L", label, str(device)], what=f"making a btrfs filesystem on {device}")


def enable_quota(mount: Path) -> None:
    run(["btrfs", "quota", "enable", str(mount)], what="enabling btrfs quotas")


def create_subvolume(path: Path) -> None:
    run(["btrfs", "subvolume", "create", str(path)], what=f"creating subvolume {path.name}")


def snapshot(source: Path, target: Path, *, readonly: bool) -> None:
    argv = ["btrfs", "subvolume", "snapshot", *(["-r"] if readonly else []), str(source), str(target)]
    run(argv, what=f"snapshotting {source.name} to {target.name}")


def delete_subvolume(path: Path) -> None:
    """Delete a subvolume (a read-only one too) and commit, so its space and qgroup go at once."""
    if path.exists():
        run(["btrfs", "property", "set", "-ts", str(path), "ro", "false"], what=f"making {path.name} writable")
        run(["btrfs", "subvolume", "delete", "--commit-after", str(path)], what=f"deleting subvolume {path.name}")


def set_readonly(path: Path) -> None:
    run(["btrfs", "property", "set", "-ts", str(path), "ro", "true"], what=f"making {path.name} read-only")


def limit(path: Path, size: int) -> None:
    """Cap the bytes the subvolume at ``path`` references (its qgroup's max referenced)."""
    run(["btrfs", "qgroup", "limit", str(size), str(path)], what=f"limiting {path.name} to {size} bytes")


@dataclass(frozen=True)
class Usage:
    referenced: int  # bytes the subvolume's files use (shared extents included)
    limit: int | None  # its max referenced, None when unlimited


def commit(path: Path) -> None:
    """Commit the filesystem's transaction (``btrfs filesystem sync``): qgroup figures count recent
    writes only then. Unlike sync(2), it leaves the node's other filesystems alone."""
    run(["btrfs", "filesystem", "sync", str(path)], what=f"syncing the filesystem of {path}")


def usage(path: Path) -> Usage:
    """The subvolume's qgroup figures, after a commit so that recent writes count."""
    commit(path)
    out = run(["btrfs", "qgroup", "show", "-rf", "--raw", str(path)], what=f"reading the usage of {path.name}")
    for line in out.splitlines():
        fields = line.split()
        if fields and fields[0].startswith("0/"):
            referenced, max_referenced = int(fields[1]), fields[3]
            return Usage(referenced, None if max_referenced == "none" else int(max_referenced))
    return Usage(0, None)


def referenced(mount: Path) -> dict[str, int]:
    """Bytes referenced by every subvolume of the filesystem at ``mount``, by path ("volumes/vol-…")."""
    commit(mount)
    out = run(["btrfs", "qgroup", "show", "-r", "--raw", str(mount)], what="reading the pool's usage")
    found: dict[str, int] = {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 5 and fields[0].startswith("0/"):
            found[fields[-1]] = int(fields[1])
    return found
