"""The Controller service: volumes and snapshots made, listed, grown and removed (book 6.3, 6.7).

Deployed beside the Node service on every node (external-provisioner and csi-snapshotter in
node deployment mode), each instance answers for its own node's pool only.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import timestamp_pb2, wrappers_pb2

from kubelab_csi.config import DriverConfig
from kubelab_csi.requests import capabilities
from kubelab_csi.requests.capacity import BLOCK, bytes_for
from kubelab_csi.requests.fields import required
from kubelab_csi.requests.paging import page
from kubelab_csi.storage.records import SnapshotRecord, VolumeRecord
from kubelab_csi.storage.volumes import Source, Volumes
from kubelab_kit.grpc import InvalidArgument, NotFound, ResourceExhausted, Unimplemented
from kubelab_protos.gen.csi.v1 import csi_pb2, csi_pb2_grpc

Cap = csi_pb2.ControllerServiceCapability.RPC


class Controller(csi_pb2_grpc.ControllerServicer):  # type: ignore[misc,unused-ignore]  # Any until protos are generated
    def __init__(self, config: DriverConfig, volumes: Volumes) -> None:
        self.config = config
        self.volumes = volumes

    # -- helpers ------------------------------------------------------------------------------
    def topology(self) -> list[Any]:
        return [csi_pb2.Topology(segments=self.config.topology)]

    def volume_message(self, record: VolumeRecord) -> Any:
        source = None
        if record.source_snapshot:
            source = csi_pb2.VolumeContentSource(
                snapshot=csi_pb2.VolumeContentSource.SnapshotSource(snapshot_id=record.source_snapshot)
            )
        elif record.source_volume:
            source = csi_pb2.VolumeContentSource(
                volume=csi_pb2.VolumeContentSource.VolumeSource(volume_id=record.source_volume)
            )
        return csi_pb2.Volume(
            volume_id=record.id,
            capacity_bytes=record.capacity,
            accessible_topology=self.topology(),
            content_source=source,
        )

    def snapshot_message(self, record: SnapshotRecord) -> Any:
        created = timestamp_pb2.Timestamp()
        created.FromNanoseconds(int(record.created * 1e9))
        return csi_pb2.Snapshot(
            snapshot_id=record.id,
            source_volume_id=record.source_volume,
            size_bytes=record.size,
            creation_time=created,
            ready_to_use=True,
        )

    def reachable(self, requirements: Any) -> bool:
        """Whether this node satisfies the request's topology (no requirement: yes)."""
        wanted = [t.segments for t in (*requirements.requisite, *requirements.preferred)]
        return not wanted or any(dict(seg) == self.config.topology for seg in wanted)

    # -- volumes ------------------------------------------------------------------------------
    def CreateVolume(self, request: Any, context: Any) -> Any:
        required(request, "name")
        block = capabilities.check(request.volume_capabilities, "CreateVolume")
        if request.HasField("accessibility_requirements") and not self.reachable(request.accessibility_requirements):
            raise ResourceExhausted(
                f"node {self.config.node_id} is not in the requested topology; its volumes live only there"
            )
        source = Source()
        if request.HasField("volume_content_source"):
            content = request.volume_content_source
            kind = content.WhichOneof("type")
            if kind == "snapshot":
                source = Source(snapshot=content.snapshot.snapshot_id)
            elif kind == "volume":
                source = Source(volume=content.volume.volume_id)
            if not (source.snapshot or source.volume):
                raise InvalidArgument("CreateVolume: volume_content_source names no snapshot or volume")
        record = self.volumes.create(
            request.name,
            bytes_for(request.capacity_range),
            block=block,
            source=source,
            parameters=dict(request.parameters),
        )
        return csi_pb2.CreateVolumeResponse(volume=self.volume_message(record))

    def DeleteVolume(self, request: Any, context: Any) -> Any:
        required(request, "volume_id")
        self.volumes.delete(request.volume_id)
        return csi_pb2.DeleteVolumeResponse()

    def ValidateVolumeCapabilities(self, request: Any, context: Any) -> Any:
        required(request, "volume_id")
        record = self.volumes.require(request.volume_id)
        if not request.volume_capabilities:
            raise InvalidArgument("ValidateVolumeCapabilities: volume_capabilities is required")
        problems = [capabilities.problem(cap) for cap in request.volume_capabilities]
        problems += [
            "the volume is raw block" if record.block else "the volume is a filesystem"
            for cap in request.volume_capabilities
            if capabilities.is_block(cap) != record.block
        ]
        found = [p for p in problems if p]
        if found:
            return csi_pb2.ValidateVolumeCapabilitiesResponse(message="; ".join(found))
        confirmed = csi_pb2.ValidateVolumeCapabilitiesResponse.Confirmed(
            volume_context=dict(request.volume_context),
            volume_capabilities=list(request.volume_capabilities),
            parameters=dict(request.parameters),
        )
        return csi_pb2.ValidateVolumeCapabilitiesResponse(confirmed=confirmed)

    def ListVolumes(self, request: Any, context: Any) -> Any:
        records, token = page(self.volumes.all(), lambda r: r.id, request.starting_token, request.max_entries)
        entries = [
            csi_pb2.ListVolumesResponse.Entry(
                volume=self.volume_message(r),
                status=csi_pb2.ListVolumesResponse.VolumeStatus(volume_condition=self.condition(r)),
            )
            for r in records
        ]
        return csi_pb2.ListVolumesResponse(entries=entries, next_token=token)

    def condition(self, record: VolumeRecord) -> Any:
        healthy, why = self.volumes.healthy(record)
        return csi_pb2.VolumeCondition(abnormal=not healthy, message=why)

    def ControllerGetVolume(self, request: Any, context: Any) -> Any:
        required(request, "volume_id")
        record = self.volumes.require(request.volume_id)
        status = csi_pb2.ControllerGetVolumeResponse.VolumeStatus(volume_condition=self.condition(record))
        return csi_pb2.ControllerGetVolumeResponse(volume=self.volume_message(record), status=status)

    def GetCapacity(self, request: Any, context: Any) -> Any:
        if request.volume_capabilities:
            capabilities.check(request.volume_capabilities, "GetCapacity")
        if request.HasField("accessible_topology") and dict(request.accessible_topology.segments) != dict(
            self.config.topology
        ):
            return csi_pb2.GetCapacityResponse(available_capacity=0)
        space = self.volumes.pool.space()
        return csi_pb2.GetCapacityResponse(
            available_capacity=space.available,
            maximum_volume_size=wrappers_pb2.Int64Value(value=space.available),
            minimum_volume_size=wrappers_pb2.Int64Value(value=BLOCK),
        )

    def ControllerExpandVolume(self, request: Any, context: Any) -> Any:
        if not self.config.controller_expansion:
            raise Unimplemented("ControllerExpandVolume: this deployment expands volumes on their node")
        required(request, "volume_id", "capacity_range")
        if request.HasField("volume_capability"):
            capabilities.check([request.volume_capability], "ControllerExpandVolume")
        record = self.volumes.expand(request.volume_id, bytes_for(request.capacity_range))
        # A filesystem volume's limit is its size at once; nothing is left for the node to do.
        return csi_pb2.ControllerExpandVolumeResponse(
            capacity_bytes=record.capacity, node_expansion_required=record.block
        )

    def ControllerGetCapabilities(self, request: Any, context: Any) -> Any:
        rpcs = [
            Cap.CREATE_DELETE_VOLUME,
            Cap.CREATE_DELETE_SNAPSHOT,
            Cap.LIST_SNAPSHOTS,
            Cap.GET_SNAPSHOT,
            Cap.CLONE_VOLUME,
            Cap.LIST_VOLUMES,
            Cap.GET_CAPACITY,
            Cap.GET_VOLUME,
            Cap.VOLUME_CONDITION,
            Cap.SINGLE_NODE_MULTI_WRITER,
        ]
        if self.config.controller_expansion:
            rpcs.append(Cap.EXPAND_VOLUME)
        caps = [csi_pb2.ControllerServiceCapability(rpc=Cap(type=rpc)) for rpc in rpcs]
        return csi_pb2.ControllerGetCapabilitiesResponse(capabilities=caps)

    # -- snapshots ----------------------------------------------------------------------------
    def CreateSnapshot(self, request: Any, context: Any) -> Any:
        required(request, "name", "source_volume_id")
        record = self.volumes.create_snapshot(request.name, request.source_volume_id, dict(request.parameters))
        return csi_pb2.CreateSnapshotResponse(snapshot=self.snapshot_message(record))

    def DeleteSnapshot(self, request: Any, context: Any) -> Any:
        required(request, "snapshot_id")
        self.volumes.delete_snapshot(request.snapshot_id)
        return csi_pb2.DeleteSnapshotResponse()

    def ListSnapshots(self, request: Any, context: Any) -> Any:
        records = self.volumes.snapshots()
        if request.snapshot_id:
            records = [r for r in records if r.id == request.snapshot_id]
        if request.source_volume_id:
            records = [r for r in records if r.source_volume == request.source_volume_id]
        chosen, token = page(records, lambda r: r.id, request.starting_token, request.max_entries)
        entries = [csi_pb2.ListSnapshotsResponse.Entry(snapshot=self.snapshot_message(r)) for r in chosen]
        return csi_pb2.ListSnapshotsResponse(entries=entries, next_token=token)

    def GetSnapshot(self, request: Any, context: Any) -> Any:
        required(request, "snapshot_id")
        record = self.volumes.snapshot(request.snapshot_id)
        if record is None:
            raise NotFound(f"snapshot {request.snapshot_id} does not exist on node {self.config.node_id}")
        return csi_pb2.GetSnapshotResponse(snapshot=self.snapshot_message(record))

    # -- not offered --------------------------------------------------------------------------
    def ControllerPublishVolume(self, request: Any, context: Any) -> Any:
        raise Unimplemented("ControllerPublishVolume: local volumes need no attach; the node mounts them")

    def ControllerUnpublishVolume(self, request: Any, context: Any) -> Any:
        raise Unimplemented("ControllerUnpublishVolume: local volumes need no attach; the node mounts them")

    def ControllerModifyVolume(self, request: Any, context: Any) -> Any:
        raise Unimplemented("ControllerModifyVolume: volumes have no mutable parameters")
