"""The Node service: volumes staged and published where the kubelet asks, their stats, their growth (book 6.4, 6.7).

Also CSI ephemeral inline volumes: a NodePublishVolume whose volume context says
``csi.storage.k8s.io/ephemeral: "true"`` creates a volume for the pod (``size`` in the
volume attributes, default 64 MiB) and its NodeUnpublishVolume deletes it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from kubelab_csi.config import DriverConfig
from kubelab_csi.errors import StorageError
from kubelab_csi.node import mounting
from kubelab_csi.requests import capabilities
from kubelab_csi.requests.capacity import bytes_for
from kubelab_csi.requests.fields import required
from kubelab_csi.storage import loop
from kubelab_csi.storage.commands import message
from kubelab_csi.storage.records import VolumeRecord
from kubelab_csi.storage.volumes import Volumes
from kubelab_kit.grpc import FailedPrecondition, Internal, InvalidArgument, NotFound
from kubelab_kit.mounts import MountError, is_mounted, mounts
from kubelab_protos.gen.csi.v1 import csi_pb2, csi_pb2_grpc

log = logging.getLogger(__name__)

Cap = csi_pb2.NodeServiceCapability.RPC
Mode = csi_pb2.VolumeCapability.AccessMode
EPHEMERAL = "csi.storage.k8s.io/ephemeral"
EPHEMERAL_SIZE = 64 << 20
QUANTITY = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30}


def quantity(text: str) -> int:
    """A Kubernetes quantity of bytes ("64Mi", "1G", "4096")."""
    digits = text.rstrip("kMGi")
    suffix = text[len(digits) :]
    if not digits.isdigit() or suffix not in QUANTITY:
        raise InvalidArgument(f"size {text!r} is not a quantity of bytes (e.g. 64Mi)")
    return int(digits) * QUANTITY[suffix]


class Node(csi_pb2_grpc.NodeServicer):  # type: ignore[misc,unused-ignore]  # Any until protos are generated
    def __init__(self, config: DriverConfig, volumes: Volumes) -> None:
        self.config = config
        self.volumes = volumes

    def resolve(self, volume_id: str) -> VolumeRecord:
        """Our volume of that ID; for an ephemeral volume, the kubelet's ID names it."""
        record = self.volumes.get(volume_id) or self.volumes.by_name(volume_id)
        if record is None or (record.id != volume_id and not record.ephemeral):
            return self.volumes.require(volume_id)  # raises NOT_FOUND
        return record

    # -- stage --------------------------------------------------------------------------------
    def NodeStageVolume(self, request: Any, context: Any) -> Any:
        required(request, "volume_id", "staging_target_path", "volume_capability")
        capabilities.check([request.volume_capability], "NodeStageVolume")
        record = self.volumes.require(request.volume_id)
        self._same_mode(record, request.volume_capability)
        staging = Path(request.staging_target_path)
        with self.volumes.lock, _status("NodeStageVolume"):
            if record.block:
                loop.attach(self.volumes.disk(record))
            else:
                mounting.bind_directory(self.volumes.path(record), staging)
        return csi_pb2.NodeStageVolumeResponse()

    def NodeUnstageVolume(self, request: Any, context: Any) -> Any:
        required(request, "volume_id", "staging_target_path")
        staging = Path(request.staging_target_path)
        record = self.volumes.get(request.volume_id)
        if record is None:
            if not is_mounted(staging):
                raise NotFound(f"volume {request.volume_id} does not exist on node {self.config.node_id}")
            with _status("NodeUnstageVolume"):
                mounting.unmount_only(staging)  # whatever is left there, the volume is gone
            return csi_pb2.NodeUnstageVolumeResponse()
        with self.volumes.lock, _status("NodeUnstageVolume"):
            if record.block:
                loop.detach(self.volumes.disk(record))
            else:
                mounting.unmount_only(staging)
        return csi_pb2.NodeUnstageVolumeResponse()

    # -- publish ------------------------------------------------------------------------------
    def NodePublishVolume(self, request: Any, context: Any) -> Any:
        required(request, "volume_id", "target_path", "volume_capability")
        capability = request.volume_capability
        capabilities.check([capability], "NodePublishVolume")
        target = Path(request.target_path)
        readonly = request.readonly or capability.access_mode.mode == Mode.SINGLE_NODE_READER_ONLY
        if request.volume_context.get(EPHEMERAL) == "true":
            return self._publish_ephemeral(request, target, readonly)
        if not request.staging_target_path:
            raise FailedPrecondition("NodePublishVolume: staging_target_path is required (the volume is staged first)")
        record = self.volumes.require(request.volume_id)
        self._same_mode(record, capability)
        staging = Path(request.staging_target_path)
        with self.volumes.lock, _status("NodePublishVolume"):
            if capability.access_mode.mode == Mode.SINGLE_NODE_SINGLE_WRITER:
                self._only_writer(record, staging, target)
            if record.block:
                devices = loop.devices_of(self.volumes.disk(record))
                if not devices:
                    raise FailedPrecondition(f"volume {record.id} is not staged on this node (no loop device)")
                mounting.bind_device(devices[0], target, readonly=readonly)
            else:
                if not is_mounted(staging):
                    raise FailedPrecondition(f"volume {record.id} is not staged at {staging}")
                flags = list(capability.mount.mount_flags)
                mounting.bind_directory(staging, target, readonly=readonly, flags=flags)
        return csi_pb2.NodePublishVolumeResponse()

    def _publish_ephemeral(self, request: Any, target: Path, readonly: bool) -> Any:
        if capabilities.is_block(request.volume_capability):
            raise InvalidArgument("NodePublishVolume: CSI ephemeral inline volumes are filesystems, not raw block")
        size = request.volume_context.get("size")
        capacity = quantity(size) if size else EPHEMERAL_SIZE
        record = self.volumes.create(request.volume_id, capacity, block=False, ephemeral=True)
        with self.volumes.lock, _status("NodePublishVolume"):
            try:
                mounting.bind_directory(self.volumes.path(record), target, readonly=readonly)
            except Exception:
                self.volumes.delete(record.id)
                raise
        return csi_pb2.NodePublishVolumeResponse()

    def NodeUnpublishVolume(self, request: Any, context: Any) -> Any:
        required(request, "volume_id", "target_path")
        target = Path(request.target_path)
        record = self.volumes.get(request.volume_id) or self.volumes.by_name(request.volume_id)
        if record is None and not is_mounted(target):
            raise NotFound(f"volume {request.volume_id} does not exist on node {self.config.node_id}")
        with self.volumes.lock, _status("NodeUnpublishVolume"):
            mounting.release(target)
            if record is not None and record.ephemeral:
                self.volumes.delete(record.id)
        return csi_pb2.NodeUnpublishVolumeResponse()

    # -- stats and growth ---------------------------------------------------------------------
    def NodeGetVolumeStats(self, request: Any, context: Any) -> Any:
        required(request, "volume_id", "volume_path")
        record = self.resolve(request.volume_id)
        path = Path(request.volume_path)
        if not path.exists():
            raise NotFound(f"volume path {path} does not exist")
        healthy, why = self.volumes.healthy(record)
        condition = csi_pb2.VolumeCondition(abnormal=not healthy, message=why)
        Unit = csi_pb2.VolumeUsage.Unit
        if record.block:
            usage = [csi_pb2.VolumeUsage(unit=Unit.BYTES, total=record.capacity)]
        else:
            used = min(self.volumes.used(record), record.capacity)
            st = os.statvfs(path)
            usage = [
                csi_pb2.VolumeUsage(unit=Unit.BYTES, total=record.capacity, used=used, available=record.capacity - used)
            ]
            if st.f_files:  # btrfs allocates inodes as it goes and reports none; then there is no inode figure
                usage.append(
                    csi_pb2.VolumeUsage(
                        unit=Unit.INODES, total=st.f_files, used=st.f_files - st.f_ffree, available=st.f_favail
                    )
                )
        return csi_pb2.NodeGetVolumeStatsResponse(usage=usage, volume_condition=condition)

    def NodeExpandVolume(self, request: Any, context: Any) -> Any:
        required(request, "volume_id", "volume_path")
        record = self.resolve(request.volume_id)
        if not Path(request.volume_path).exists():
            raise NotFound(f"volume path {request.volume_path} does not exist")
        if request.HasField("volume_capability"):
            capabilities.check([request.volume_capability], "NodeExpandVolume")
        if request.HasField("capacity_range"):
            record = self.volumes.expand(record.id, bytes_for(request.capacity_range, default=record.capacity))
        elif record.block:
            with _status("NodeExpandVolume"):
                loop.refresh(self.volumes.disk(record))
        return csi_pb2.NodeExpandVolumeResponse(capacity_bytes=record.capacity)

    # -- about the node -----------------------------------------------------------------------
    def NodeGetCapabilities(self, request: Any, context: Any) -> Any:
        rpcs = [
            Cap.STAGE_UNSTAGE_VOLUME,
            Cap.GET_VOLUME_STATS,
            Cap.EXPAND_VOLUME,
            Cap.VOLUME_CONDITION,
            Cap.SINGLE_NODE_MULTI_WRITER,
        ]
        caps = [csi_pb2.NodeServiceCapability(rpc=Cap(type=rpc)) for rpc in rpcs]
        return csi_pb2.NodeGetCapabilitiesResponse(capabilities=caps)

    def NodeGetInfo(self, request: Any, context: Any) -> Any:
        return csi_pb2.NodeGetInfoResponse(
            node_id=self.config.node_id,
            max_volumes_per_node=self.config.max_volumes_per_node,
            accessible_topology=csi_pb2.Topology(segments=self.config.topology),
        )

    def _only_writer(self, record: VolumeRecord, staging: Path, target: Path) -> None:
        """SINGLE_NODE_SINGLE_WRITER: FAILED_PRECONDITION if the volume is published at another path."""
        if record.block:
            devices = {os.path.basename(d) for d in loop.devices_of(self.volumes.disk(record))}
            others = [m.point for m in mounts() if m.root.lstrip("/") in devices]
        else:
            others = [p for p in self.volumes.mounted_at(record) if p != str(staging)]
        others = [p for p in others if p != str(target)]
        if others:
            raise FailedPrecondition(f"volume {record.id} is single-writer and already published at {others[0]}")

    @staticmethod
    def _same_mode(record: VolumeRecord, capability: Any) -> None:
        if capabilities.is_block(capability) != record.block:
            kind = "raw block" if record.block else "filesystem"
            raise InvalidArgument(f"volume {record.id} is a {kind} volume; the capability asks for the other kind")


class _status:
    """Turns a failed mount or storage command into INTERNAL with the tool's message."""

    def __init__(self, call: str) -> None:
        self.call = call

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        if isinstance(exc, StorageError):
            raise Internal(f"{self.call}: {message(exc)}") from exc
        if isinstance(exc, MountError):
            raise Internal(f"{self.call}: {exc.problem}: {exc.output.strip()}") from exc
