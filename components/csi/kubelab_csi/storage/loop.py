"""Loop devices (``losetup``): a file in the pool seen as a block device (raw block volumes, the pool image)."""

from __future__ import annotations

from pathlib import Path

from kubelab_csi.storage.commands import run


def devices_of(backing: Path) -> list[str]:
    """The loop devices attached to ``backing`` (``losetup -j``), e.g. ``["/dev/loop3"]``."""
    out = run(["losetup", "-j", str(backing), "-O", "NAME", "-n"], what=f"listing the loop devices of {backing}")
    return [line.strip() for line in out.splitlines() if line.strip()]


def attach(backing: Path) -> str:
    """The loop device of ``backing``: the one already attached, or a new one."""
    found = devices_of(backing)
    if found:
        return found[0]
    return run(["losetup", "-f", "--show", str(backing)], what=f"attaching {backing} to a loop device").strip()


def detach(backing: Path) -> None:
    for device in devices_of(backing):
        run(["losetup", "-d", device], what=f"detaching {device}")


def refresh(backing: Path) -> None:
    """Make every loop device of ``backing`` see the file's new size (after it grew)."""
    for device in devices_of(backing):
        run(["losetup", "-c", device], what=f"resizing {device}")
