"""Node: staging and publishing (filesystem, read-only, raw block), inline ephemeral volumes, errors, restarts."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import grpc
import pytest
from csi_testkit import BLOCK, MOUNT, Csi, MiB, about, code_of

from kubelab_csi.testing import leftovers, running_driver
from kubelab_kit.grpc import connect
from kubelab_kit.mounts import is_mounted
from kubelab_protos.gen.csi.v1 import csi_pb2


def test_read_only_publish_refuses_writes(csi: Csi) -> None:
    volume = csi.create("pvc-ro", 4 * MiB)
    target = csi.stage_publish(volume.volume_id, "ro", readonly=True)
    with pytest.raises(OSError) as refused:
        (target / "x").write_text("no")
    assert refused.value.errno == errno.EROFS
    csi.unpublish_unstage(volume.volume_id, "ro")
    assert not target.exists(), "unpublish removes the target path"
    csi.delete(volume.volume_id)


def test_raw_block_volume_is_a_device_of_its_size_and_grows(csi: Csi) -> None:
    volume = csi.create("pvc-block", 8 * MiB, BLOCK)
    device = csi.stage_publish(volume.volume_id, "block", BLOCK)
    payload = os.urandom(MiB)
    fd = os.open(device, os.O_RDWR)
    try:
        assert os.lseek(fd, 0, os.SEEK_END) == 8 * MiB
        os.pwrite(fd, payload, 7 * MiB)
        os.fsync(fd)
        assert os.pread(fd, MiB, 7 * MiB) == payload
    finally:
        os.close(fd)
    csi.controller.ControllerExpandVolume(
        csi_pb2.ControllerExpandVolumeRequest(
            volume_id=volume.volume_id, capacity_range=csi_pb2.CapacityRange(required_bytes=12 * MiB)
        )
    )
    csi.node.NodeExpandVolume(csi_pb2.NodeExpandVolumeRequest(volume_id=volume.volume_id, volume_path=str(device)))
    fd = os.open(device, os.O_RDONLY)
    try:
        assert os.lseek(fd, 0, os.SEEK_END) == 12 * MiB
        assert os.pread(fd, MiB, 7 * MiB) == payload
    finally:
        os.close(fd)
    delete = csi_pb2.DeleteVolumeRequest(volume_id=volume.volume_id)
    assert code_of(csi.controller.DeleteVolume, delete) == grpc.StatusCode.FAILED_PRECONDITION, "still attached"
    csi.unpublish_unstage(volume.volume_id, "block", BLOCK)
    csi.delete(volume.volume_id)


def test_inline_ephemeral_volume_lives_as_long_as_its_pod(csi: Csi) -> None:
    target = csi.folder / "ephemeral" / "mount"
    kubelet_id = "csi-0123456789abcdef"
    request = csi_pb2.NodePublishVolumeRequest(
        volume_id=kubelet_id,
        target_path=str(target),
        volume_capability=MOUNT,
        volume_context={"csi.storage.k8s.io/ephemeral": "true", "size": "8Mi"},
    )
    before = csi.available()
    csi.node.NodePublishVolume(request)
    assert is_mounted(target) and about(csi.available(), before - 8 * MiB)
    (target / "scratch").write_text("pod data")
    stats = csi.node.NodeGetVolumeStats(
        csi_pb2.NodeGetVolumeStatsRequest(volume_id=kubelet_id, volume_path=str(target))
    )
    assert stats.usage[0].total == 8 * MiB
    csi.node.NodeUnpublishVolume(csi_pb2.NodeUnpublishVolumeRequest(volume_id=kubelet_id, target_path=str(target)))
    assert about(csi.available(), before) and not target.exists()


def test_node_errors_in_the_protocols_form(csi: Csi) -> None:
    unknown = "vol-000000000000000000000000.other-node"
    stage = csi_pb2.NodeStageVolumeRequest(
        volume_id=unknown, staging_target_path=str(csi.folder / "s"), volume_capability=MOUNT
    )
    assert code_of(csi.node.NodeStageVolume, stage) == grpc.StatusCode.NOT_FOUND
    assert (
        code_of(csi.node.NodeStageVolume, csi_pb2.NodeStageVolumeRequest(volume_id=unknown))
        == grpc.StatusCode.INVALID_ARGUMENT
    )
    stats = csi_pb2.NodeGetVolumeStatsRequest(volume_id=unknown, volume_path=str(csi.folder))
    assert code_of(csi.node.NodeGetVolumeStats, stats) == grpc.StatusCode.NOT_FOUND
    volume = csi.create("pvc-unstaged", 4 * MiB)
    publish = csi_pb2.NodePublishVolumeRequest(
        volume_id=volume.volume_id,
        staging_target_path=str(csi.folder / "never-staged"),
        target_path=str(csi.folder / "never-staged-target"),
        volume_capability=MOUNT,
    )
    assert code_of(csi.node.NodePublishVolume, publish) == grpc.StatusCode.FAILED_PRECONDITION
    wrong_kind = csi_pb2.NodeStageVolumeRequest(
        volume_id=volume.volume_id, staging_target_path=str(csi.folder / "wk"), volume_capability=BLOCK
    )
    assert code_of(csi.node.NodeStageVolume, wrong_kind) == grpc.StatusCode.INVALID_ARGUMENT
    csi.delete(volume.volume_id)


def test_restart_keeps_volumes_and_their_mounts(tmp_path: Path) -> None:
    folder = tmp_path / "restart"
    with running_driver(folder, size=1 << 30) as first, connect(first.endpoint) as channel:
        a = Csi.over(first, channel)
        volume = a.create("pvc-kept", 4 * MiB)
        target = a.stage_publish(volume.volume_id, "kept")
        (target / "data").write_text("before the restart")
        first.server.stop()
        from kubelab_csi.driver import server

        with server(folder / "csi2.sock", first.config, first.pool.open()) as second, connect(second.path) as again:
            b = Csi.over(first, again)
            listed = b.controller.ListVolumes(csi_pb2.ListVolumesRequest())
            assert [e.volume.volume_id for e in listed.entries] == [volume.volume_id]
            assert (target / "data").read_text() == "before the restart", "the mount outlives the driver"
            (target / "data").write_text("after")
            b.unpublish_unstage(volume.volume_id, "kept")
            b.delete(volume.volume_id)
    assert leftovers(folder) == []


def test_a_staged_volume_is_not_deleted_until_the_node_lets_go(csi: Csi) -> None:
    """The kubelet unstages after the pod is gone, and the PV may be deleted before that: DeleteVolume
    waits (FAILED_PRECONDITION, the provisioner retries) instead of deleting a mounted subvolume."""
    volume = csi.create("pvc-staged", 4 * MiB)
    csi.stage_publish(volume.volume_id, "staged")
    delete = csi_pb2.DeleteVolumeRequest(volume_id=volume.volume_id)
    assert code_of(csi.controller.DeleteVolume, delete) == grpc.StatusCode.FAILED_PRECONDITION
    target = csi.folder / "staged" / "mount"
    csi.node.NodeUnpublishVolume(
        csi_pb2.NodeUnpublishVolumeRequest(volume_id=volume.volume_id, target_path=str(target))
    )
    assert code_of(csi.controller.DeleteVolume, delete) == grpc.StatusCode.FAILED_PRECONDITION, "still staged"
    csi.node.NodeUnstageVolume(
        csi_pb2.NodeUnstageVolumeRequest(
            volume_id=volume.volume_id, staging_target_path=str(csi.folder / "staged" / "globalmount")
        )
    )
    csi.delete(volume.volume_id)
    assert csi.driver.leftovers(csi.folder / "staged") == []
