"""A container's root filesystem: the image's layers under an overlay mount (book 4.3-4.4).

``lowerdir`` lists the image's unpacked layers from the shared store, top first; ``upperdir``
and ``workdir`` are the container's own, next to its bundle, so a container's writes never
reach the store and removing it removes them. Layer directories are named relative to the
store (mount runs there) so that many layers stay within the kernel's one-page option limit.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from kubelab_kit.grpc import GrpcStatusError
from kubelab_kit.mounts import is_mounted


def mount(layers: list[Path], store: Path, container_dir: Path) -> Path:
    rootfs, upper, work = container_dir / "rootfs", container_dir / "upper", container_dir / "work"
    for path in (rootfs, upper, work):
        path.mkdir(parents=True, exist_ok=True)
    if is_mounted(rootfs):
        return rootfs
    if not layers:  # an image of no layers: overlay still needs a lower directory
        empty = container_dir / "empty"
        empty.mkdir(exist_ok=True)
        layers = [empty]
    lower = ":".join(os.path.relpath(layer, store) for layer in layers)
    options = f"lowerdir={lower},upperdir={upper},workdir={work}"
    argv = ["mount", "-t", "overlay", "overlay", "-o", options, str(rootfs)]
    done = subprocess.run(argv, cwd=store, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise GrpcStatusError(f"mounting the container's root filesystem: {done.stderr.strip()}")
    return rootfs


def unmount(container_dir: Path) -> None:
    rootfs = container_dir / "rootfs"
    while is_mounted(rootfs):
        done = subprocess.run(["umount", str(rootfs)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            subprocess.run(["umount", "-l", str(rootfs)], capture_output=True, check=False)
            break
