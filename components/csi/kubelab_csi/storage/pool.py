"""The pool: the node's one btrfs filesystem with quotas on, where every volume and snapshot lives.

Either a directory that is already a btrfs mount, or a sparse image file that :meth:`Pool.open`
formats (the first time) and mounts through a loop device. Layout::

    <root>/volumes/vol-<hex>/          a subvolume per volume (raw block: its disk.img inside)
    <root>/snapshots/snap-<hex>/       a read-only subvolume per snapshot
    <root>/.kubelab/{volumes,snapshots}/*.json   the records (records.py)

Space is accounted like a thick-provisioned volume group: each volume reserves its capacity, so
what :meth:`Pool.space` reports available (the driver's GetCapacity, the scheduler's
CSIStorageCapacity) is what a new volume can still be promised: the filesystem's free space less
what existing volumes may still write, and never more than the usable part of the pool less
every volume's capacity.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from kubelab_csi.errors import StorageError
from kubelab_csi.storage import btrfs, loop
from kubelab_csi.storage.commands import run
from kubelab_csi.storage.records import Records, SnapshotRecord, VolumeRecord, key
from kubelab_kit.mounts import is_mounted, mount

log = logging.getLogger(__name__)

# btrfs keeps metadata (twice, DUP) and a global reserve beside the data; promising the last
# tenth of the filesystem would let qgroup-limited volumes run into ENOSPC below their limit.
USABLE_FRACTION = 0.9


@dataclass(frozen=True)
class Space:
    size: int  # bytes the filesystem holds
    free: int  # bytes it has free (statfs)
    reserved: int  # capacities promised to volumes
    available: int  # what a new volume can be promised


class Pool:
    def __init__(self, root: Path, image: Path | None = None, image_size: int = 0) -> None:
        self.root = root
        self.image = image
        self.image_size = image_size
        self.volumes_dir = root / "volumes"
        self.snapshots_dir = root / "snapshots"

    def open(self) -> Pool:
        """Make the pool usable: format and mount the image if needed, quotas on, folders made."""
        self.root.mkdir(parents=True, exist_ok=True)
        if not is_mounted(self.root) and self.image is not None:
            self._mount_image()
        if self.image is not None and self.image_size > self.image.stat().st_size:
            self._grow()
        if not btrfs.is_btrfs(self.root):
            raise StorageError(
                f"the pool {self.root} is not a btrfs filesystem",
                fix="pass --pool-image (a file the driver formats) or mount a btrfs filesystem there",
            )
        btrfs.enable_quota(self.root)
        for folder in (self.volumes_dir, self.snapshots_dir):
            folder.mkdir(exist_ok=True)
        return self

    def _mount_image(self) -> None:
        assert self.image is not None
        fresh = not self.image.exists()
        if fresh:
            if self.image_size <= 0:
                raise StorageError(f"no pool image at {self.image}", fix="pass --pool-size to create one")
            self.image.parent.mkdir(parents=True, exist_ok=True)
            with open(self.image, "wb") as fh:
                fh.truncate(self.image_size)  # sparse: the space is taken as volumes fill
            btrfs.mkfs(self.image, "kubelab-csi")
        mount(self.image, self.root, options=["loop"], fstype="btrfs")
        log.info("mounted the pool image %s on %s%s", self.image, self.root, " (new)" if fresh else "")

    def _grow(self) -> None:
        """A larger --pool-size than the image: grow the file, its loop device, then the filesystem, online."""
        assert self.image is not None
        before = self.image.stat().st_size
        os.truncate(self.image, self.image_size)
        loop.refresh(self.image)
        run(["btrfs", "filesystem", "resize", "max", str(self.root)], what="growing the pool to its image")
        log.info("grew the pool %s from %d to %d bytes", self.root, before, self.image_size)

    @property
    def volume_records(self) -> Records[VolumeRecord]:
        return Records(self.root / ".kubelab" / "volumes", VolumeRecord)

    @property
    def snapshot_records(self) -> Records[SnapshotRecord]:
        return Records(self.root / ".kubelab" / "snapshots", SnapshotRecord)

    def space(self) -> Space:
        st = os.statvfs(self.root)
        size, free = st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize
        volumes = self.volume_records.all()
        reserved = sum(v.capacity for v in volumes)
        used = btrfs.referenced(self.root) if volumes else {}
        # what the volumes may still write: free space already promised to them
        unfilled = sum(max(0, v.capacity - used.get(f"volumes/{key(v.id)}", 0)) for v in volumes)
        available = max(0, min(free - unfilled, int(size * USABLE_FRACTION) - reserved))
        return Space(size, free, reserved, available)
