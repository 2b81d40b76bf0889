"""Volumes and snapshots in the pool, with the CSI's rules for names, sources and sizes (book 6.7).

Every operation is idempotent by name, as the CSI asks: creating what exists with the same
request returns it, with a different one fails ALREADY_EXISTS. IDs are derived from the name
and carry the node (``vol-<hex>.<node>``), so a request for another node's volume can say where
that volume lives. One lock serialises changes: they are quick (a btrfs command or two).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from kubelab_csi.errors import StorageError
from kubelab_csi.storage import btrfs, loop
from kubelab_csi.storage.commands import message
from kubelab_csi.storage.pool import Pool
from kubelab_csi.storage.records import SnapshotRecord, VolumeRecord, key, node_of
from kubelab_kit.grpc import (
    AlreadyExists,
    FailedPrecondition,
    Internal,
    InvalidArgument,
    NotFound,
    OutOfRange,
    ResourceExhausted,
)
from kubelab_kit.mounts import mounts

log = logging.getLogger(__name__)

DISK = "disk.img"  # a raw block volume's data: a file of its capacity in the volume's subvolume
# A raw block volume's file has extents and tree blocks beyond its bytes; its qgroup allows for them.
BLOCK_SLACK = 4 << 20


@dataclass(frozen=True)
class Source:
    snapshot: str = ""
    volume: str = ""


def make_id(kind: str, name: str, node: str) -> str:
    return f"{kind}-{hashlib.sha256(name.encode()).hexdigest()[:24]}.{node}"


class Volumes:
    def __init__(self, pool: Pool, node: str) -> None:
        self.pool = pool
        self.node = node
        self.lock = threading.RLock()

    # -- lookups ------------------------------------------------------------------------------
    def path(self, record: VolumeRecord) -> Path:
        return self.pool.volumes_dir / str(key(record.id))

    def disk(self, record: VolumeRecord) -> Path:
        return self.path(record) / DISK

    def snapshot_path(self, record: SnapshotRecord) -> Path:
        return self.pool.snapshots_dir / str(key(record.id))

    def get(self, volume_id: str) -> VolumeRecord | None:
        return self.pool.volume_records.get(volume_id)

    def require(self, volume_id: str) -> VolumeRecord:
        record = self.get(volume_id)
        if record is None:
            elsewhere = node_of(volume_id)
            where = f" (it belongs to node {elsewhere})" if elsewhere and elsewhere != self.node else ""
            raise NotFound(f"volume {volume_id} does not exist on node {self.node}{where}")
        return record

    def by_name(self, name: str) -> VolumeRecord | None:
        return self.get(make_id("vol", name, self.node))

    def all(self) -> list[VolumeRecord]:
        return self.pool.volume_records.all()

    def snapshot(self, snapshot_id: str) -> SnapshotRecord | None:
        return self.pool.snapshot_records.get(snapshot_id)

    def snapshots(self) -> list[SnapshotRecord]:
        return self.pool.snapshot_records.all()

    def healthy(self, record: VolumeRecord) -> tuple[bool, str]:
        """The volume's condition: its subvolume (and disk file) present."""
        path = self.path(record)
        if not path.is_dir():
            return False, f"the volume's subvolume {path} is missing"
        if record.block and not self.disk(record).is_file():
            return False, f"the raw block volume's file {self.disk(record)} is missing"
        return True, "healthy"

    # -- volumes ------------------------------------------------------------------------------
    def create(
        self,
        name: str,
        capacity: int,
        *,
        block: bool,
        source: Source = Source(),
        ephemeral: bool = False,
        parameters: dict[str, str] | None = None,
    ) -> VolumeRecord:
        with self.lock:
            volume_id = make_id("vol", name, self.node)
            existing = self.get(volume_id)
            if existing is not None:
                same = (
                    existing.capacity == capacity
                    and existing.block == block
                    and (existing.source_snapshot, existing.source_volume) == (source.snapshot, source.volume)
                )
                if not same:
                    raise AlreadyExists(f"volume {name} exists with another size, mode or source")
                return existing
            origin = self._origin(source, capacity, block)
            space = self.pool.space()
            if capacity > space.available:
                raise ResourceExhausted(
                    f"node {self.node} can promise {space.available} bytes, not {capacity}",
                    fix="ask for less, or let the scheduler place the pod on a node with room (CSIStorageCapacity)",
                )
            record = VolumeRecord(
                volume_id,
                name,
                capacity,
                block,
                self.node,
                source.snapshot,
                source.volume,
                ephemeral,
                dict(parameters or {}),
            )
            path = self.path(record)
            try:
                if origin is not None:
                    btrfs.snapshot(origin, path, readonly=False)
                else:
                    btrfs.create_subvolume(path)
                if block:
                    self._size_disk(record)
                btrfs.limit(path, self._limit(record))
            except StorageError as exc:
                self._delete_data(path)
                raise Internal(message(exc)) from exc
            self.pool.volume_records.put(record)
            log.info("created volume %s (%s, %d bytes%s)", volume_id, name, capacity, ", block" if block else "")
            return record

    def _elsewhere(self, source_id: str) -> None:
        """A source on another node: RESOURCE_EXHAUSTED, which makes external-provisioner drop the
        claim's selected node, so the scheduler tries another one (it knows nothing of where a
        snapshot or a source volume lives; the CSI's snapshot topology came after spec 1.12)."""
        owner = node_of(source_id)
        if owner and owner != self.node:
            raise ResourceExhausted(
                f"{source_id} lives on node {owner}, not {self.node}: a volume made from it can only be made there",
                fix=f"schedule the claim's pod to {owner} (e.g. a nodeSelector kubernetes.io/hostname={owner})",
            )

    def _origin(self, source: Source, capacity: int, block: bool) -> Path | None:
        if source.snapshot:
            snap = self.snapshot(source.snapshot)
            if snap is None:
                self._elsewhere(source.snapshot)
                raise NotFound(f"snapshot {source.snapshot} does not exist on node {self.node}")
            size, is_block, path = snap.size, snap.block, self.snapshot_path(snap)
            what = f"snapshot {snap.id}"
        elif source.volume:
            if self.get(source.volume) is None:
                self._elsewhere(source.volume)
            vol = self.require(source.volume)
            size, is_block, path = vol.capacity, vol.block, self.path(vol)
            what = f"volume {vol.id}"
        else:
            return None
        if capacity < size:
            raise OutOfRange(f"{what} holds {size} bytes; a volume made from it needs at least that, not {capacity}")
        if is_block != block:
            mode = "raw block" if is_block else "filesystem"
            raise InvalidArgument(f"{what} is a {mode} volume; a volume made from it must be one too")
        return path

    def _limit(self, record: VolumeRecord) -> int:
        return record.capacity + (BLOCK_SLACK if record.block else 0)

    def _size_disk(self, record: VolumeRecord) -> None:
        disk = self.disk(record)
        with open(disk, "ab") as fh:
            if fh.tell() < record.capacity:
                fh.truncate(record.capacity)

    def delete(self, volume_id: str) -> None:
        """Delete the volume and its data; nothing to do when it does not exist (or is not ours)."""
        with self.lock:
            record = self.get(volume_id)
            if record is None:
                return
            if record.block and loop.devices_of(self.disk(record)):
                raise FailedPrecondition(f"volume {volume_id} is still attached as a block device on this node")
            # btrfs deletes a subvolume that is bind-mounted (the mount then shows "//deleted"): a
            # volume still staged or published must wait, as the CSI allows, until the node lets go.
            where = self.mounted_at(record)
            if where:
                raise FailedPrecondition(f"volume {volume_id} is still mounted on this node at {where[0]}")
            try:
                btrfs.delete_subvolume(self.path(record))
            except StorageError as exc:
                raise FailedPrecondition(f"volume {volume_id} is in use: {message(exc)}") from exc
            self.pool.volume_records.remove(volume_id)
            log.info("deleted volume %s (%s)", volume_id, record.name)

    def expand(self, volume_id: str, capacity: int) -> VolumeRecord:
        """Grow the volume to ``capacity`` (a smaller or equal size changes nothing), online."""
        with self.lock:
            record = self.require(volume_id)
            if capacity <= record.capacity:
                return record
            space = self.pool.space()
            if capacity - record.capacity > space.available:
                raise ResourceExhausted(
                    f"node {self.node} can promise {space.available} more bytes, not {capacity - record.capacity}"
                )
            record.capacity = capacity
            try:
                if record.block:
                    self._size_disk(record)
                    loop.refresh(self.disk(record))
                btrfs.limit(self.path(record), self._limit(record))
            except StorageError as exc:
                raise Internal(message(exc)) from exc
            self.pool.volume_records.put(record)
            log.info("expanded volume %s to %d bytes", volume_id, capacity)
            return record

    def mounted_at(self, record: VolumeRecord) -> list[str]:
        """The mount points of the volume's subvolume (its staging and publish paths)."""
        root = f"/volumes/{key(record.id)}"
        return [m.point for m in mounts() if m.fstype == "btrfs" and m.root == root]

    def used(self, record: VolumeRecord) -> int:
        try:
            return btrfs.usage(self.path(record)).referenced
        except StorageError as exc:
            raise Internal(message(exc)) from exc

    # -- snapshots ----------------------------------------------------------------------------
    def create_snapshot(self, name: str, volume_id: str, parameters: dict[str, str] | None = None) -> SnapshotRecord:
        with self.lock:
            snapshot_id = make_id("snap", name, self.node)
            existing = self.snapshot(snapshot_id)
            if existing is not None:
                if existing.source_volume != volume_id:
                    raise AlreadyExists(f"snapshot {name} exists, of volume {existing.source_volume}")
                return existing
            volume = self.require(volume_id)
            record = SnapshotRecord(
                snapshot_id, name, volume_id, volume.capacity, volume.block, time.time(), dict(parameters or {})
            )
            try:
                btrfs.snapshot(self.path(volume), self.snapshot_path(record), readonly=True)
            except StorageError as exc:
                self._delete_data(self.snapshot_path(record))
                raise Internal(message(exc)) from exc
            self.pool.snapshot_records.put(record)
            log.info("snapshot %s (%s) of volume %s", snapshot_id, name, volume_id)
            return record

    def delete_snapshot(self, snapshot_id: str) -> None:
        with self.lock:
            record = self.snapshot(snapshot_id)
            if record is None:
                return
            try:
                btrfs.delete_subvolume(self.snapshot_path(record))
            except StorageError as exc:
                raise Internal(message(exc)) from exc
            self.pool.snapshot_records.remove(snapshot_id)
            log.info("deleted snapshot %s (%s)", snapshot_id, record.name)

    @staticmethod
    def _delete_data(path: Path) -> None:
        try:
            btrfs.delete_subvolume(path)
        except StorageError:
            log.warning("could not remove %s after a failed create", path)
