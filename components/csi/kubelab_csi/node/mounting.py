"""Bind mounts of a volume: its subvolume or loop device at the staging path, then at each pod's path.

A filesystem volume is staged by bind-mounting its subvolume on the staging path and published by
bind-mounting the staging path on the target (read-only, and with the capability's mount flags,
by a remount of that bind). A raw block volume is staged by attaching its file to a loop device
and published by bind-mounting the device node on a file at the target path.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

from kubelab_kit.grpc import Unimplemented  # noqa: F401  (what the starter's TODOs raise)
from kubelab_kit.mounts import is_mounted, mount, unmount


def bind_directory(source: Path, target: Path, *, readonly: bool = False, flags: Sequence[str] = ()) -> None:
    """Make ``source`` (a subvolume, or a staging path) visible at ``target``; idempotent."""
    # >>> solution 6.7
    target.mkdir(parents=True, exist_ok=True)
    if is_mounted(target):
        return
    mount(source, target, options=["bind"])
    if readonly or flags:
        _remount(target, readonly, flags)
    # === starter
    # # The kubelet made target's parent; make target itself, and return at once if it is already a
    # # mount point (the kubelet retries, and the CSI asks for idempotency). Then
    # # mount(source, target, options=["bind"]), and if readonly or flags: _remount(target, readonly, flags).
    # raise Unimplemented(f"TODO(6.7): bind-mount {source} on {target} (kubelab_csi/node/mounting.py)")
    # <<< solution


def bind_device(device: str, target: Path, *, readonly: bool = False) -> None:
    """Make the block device ``device`` (a loop device) appear as the file ``target``; idempotent."""
    # >>> solution 6.7
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.touch()
    if is_mounted(target):
        return
    mount(device, target, options=["bind"])
    if readonly:
        _remount(target, True, ())
    # === starter
    # # A device is bind-mounted on a regular file: make target's parents and an empty file at target,
    # # return if target is already a mount point, then mount(device, target, options=["bind"]) and,
    # # if readonly, _remount(target, True, ()).
    # raise Unimplemented(f"TODO(6.7): bind-mount the device {device} on {target}")
    # <<< solution


def _remount(target: Path, readonly: bool, flags: Sequence[str]) -> None:
    try:
        mount("none", target, options=["remount", "bind", *(["ro"] if readonly else []), *flags])
    except Exception:
        unmount(target)
        raise


def unmount_only(target: Path) -> None:
    """Unmount ``target`` and leave the path (the kubelet removes staging directories itself)."""
    unmount(target)


def release(target: Path) -> None:
    """Unmount ``target`` and remove it (a directory or a device file); a missing target is fine."""
    unmount(target)
    with contextlib.suppress(FileNotFoundError):
        if target.is_dir() and not target.is_symlink():
            target.rmdir()
        else:
            os.unlink(target)
