"""Snapshots (read-only subvolumes), restores and clones (writable snapshots): same data, own size."""

from __future__ import annotations

import os

import grpc
from csi_testkit import MOUNT, Csi, MiB, code_of, write_until_full

from kubelab_protos.gen.csi.v1 import csi_pb2

Source = csi_pb2.VolumeContentSource


def test_snapshot_restore_and_clone_hold_the_same_data(csi: Csi) -> None:
    volume = csi.create("pvc-origin", 16 * MiB)
    target = csi.stage_publish(volume.volume_id, "origin")
    data = os.urandom(3 * MiB)
    (target / "data").write_bytes(data)
    snap = csi.controller.CreateSnapshot(
        csi_pb2.CreateSnapshotRequest(name="snap-origin", source_volume_id=volume.volume_id)
    ).snapshot
    assert snap.ready_to_use and snap.size_bytes == 16 * MiB and snap.source_volume_id == volume.volume_id
    (target / "data").write_bytes(b"changed after the snapshot")

    restored = csi.create(
        "pvc-restored",
        40 * MiB,  # larger than the snapshot: the restored volume gets the size asked for
        volume_content_source=Source(snapshot=Source.SnapshotSource(snapshot_id=snap.snapshot_id)),
    )
    assert restored.content_source.snapshot.snapshot_id == snap.snapshot_id
    clone = csi.create(
        "pvc-clone", 32 * MiB, volume_content_source=Source(volume=Source.VolumeSource(volume_id=volume.volume_id))
    )
    restored_at = csi.stage_publish(restored.volume_id, "restored")
    clone_at = csi.stage_publish(clone.volume_id, "clone")
    assert (restored_at / "data").read_bytes() == data
    assert (clone_at / "data").read_bytes() == b"changed after the snapshot"
    # the clone has its own (larger) size; writing it leaves the origin alone
    assert write_until_full(clone_at / "more", 24 * MiB) == (24 * MiB, None)
    assert write_until_full(restored_at / "more", 28 * MiB) == (28 * MiB, None)
    assert (target / "data").read_bytes() == b"changed after the snapshot"

    smaller = csi_pb2.CreateVolumeRequest(
        name="pvc-smaller",
        capacity_range=csi_pb2.CapacityRange(required_bytes=8 * MiB),
        volume_capabilities=[MOUNT],
        volume_content_source=Source(snapshot=Source.SnapshotSource(snapshot_id=snap.snapshot_id)),
    )
    assert code_of(csi.controller.CreateVolume, smaller) == grpc.StatusCode.OUT_OF_RANGE

    listed = csi.controller.ListSnapshots(csi_pb2.ListSnapshotsRequest(source_volume_id=volume.volume_id))
    assert [e.snapshot.snapshot_id for e in listed.entries] == [snap.snapshot_id]
    for where, vol in (("origin", volume), ("restored", restored), ("clone", clone)):
        csi.unpublish_unstage(vol.volume_id, where)
        csi.delete(vol.volume_id)
    csi.controller.DeleteSnapshot(csi_pb2.DeleteSnapshotRequest(snapshot_id=snap.snapshot_id))
    csi.controller.DeleteSnapshot(csi_pb2.DeleteSnapshotRequest(snapshot_id=snap.snapshot_id))
    assert not list(csi.driver.pool.snapshots_dir.iterdir())


def test_snapshot_errors(csi: Csi) -> None:
    missing = csi_pb2.CreateSnapshotRequest(name="snap-missing", source_volume_id="vol-000000000000000000000000.x")
    assert code_of(csi.controller.CreateSnapshot, missing) == grpc.StatusCode.NOT_FOUND
    assert (
        code_of(csi.controller.CreateSnapshot, csi_pb2.CreateSnapshotRequest(name="x"))
        == grpc.StatusCode.INVALID_ARGUMENT
    )
    restore_missing = Source(
        snapshot=Source.SnapshotSource(snapshot_id="snap-000000000000000000000000.kubelab-test-node")
    )
    request = csi_pb2.CreateVolumeRequest(
        name="pvc-from-nothing",
        volume_capabilities=[MOUNT],
        volume_content_source=restore_missing,
    )
    assert code_of(csi.controller.CreateVolume, request) == grpc.StatusCode.NOT_FOUND


def test_a_source_on_another_node_asks_for_another_node(csi: Csi) -> None:
    """RESOURCE_EXHAUSTED (external-provisioner then reschedules the pod) naming the source's node."""
    snapshot = Source(snapshot=Source.SnapshotSource(snapshot_id="snap-000000000000000000000000.kubelab-worker"))
    request = csi_pb2.CreateVolumeRequest(
        name="pvc-elsewhere", volume_capabilities=[MOUNT], volume_content_source=snapshot
    )
    try:
        csi.controller.CreateVolume(request)
    except grpc.RpcError as exc:
        assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "kubelab-worker" in exc.details()
    else:
        raise AssertionError("a restore from another node's snapshot succeeded")
    clone = Source(volume=Source.VolumeSource(volume_id="vol-000000000000000000000000.kubelab-worker"))
    request = csi_pb2.CreateVolumeRequest(
        name="pvc-elsewhere", volume_capabilities=[MOUNT], volume_content_source=clone
    )
    assert code_of(csi.controller.CreateVolume, request) == grpc.StatusCode.RESOURCE_EXHAUSTED
