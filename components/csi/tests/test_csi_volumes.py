"""Controller: volumes created by name (idempotent), refused in the CSI's own statuses, sized, deleted."""

from __future__ import annotations

import errno

import grpc
import pytest
from csi_testkit import MOUNT, Csi, MiB, about, code_of, write_until_full

from kubelab_protos.gen.csi.v1 import csi_pb2

Mode = csi_pb2.VolumeCapability.AccessMode


def test_create_is_idempotent_by_name_and_refuses_a_conflict(csi: Csi) -> None:
    first = csi.create("pvc-same", 16 * MiB)
    assert csi.create("pvc-same", 16 * MiB).volume_id == first.volume_id
    assert code_of(csi.create, "pvc-same", 32 * MiB) == grpc.StatusCode.ALREADY_EXISTS
    csi.delete(first.volume_id)
    csi.delete(first.volume_id)  # deleting again is a success


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (csi_pb2.CreateVolumeRequest(volume_capabilities=[MOUNT]), grpc.StatusCode.INVALID_ARGUMENT),
        (csi_pb2.CreateVolumeRequest(name="no-caps"), grpc.StatusCode.INVALID_ARGUMENT),
        (
            csi_pb2.CreateVolumeRequest(
                name="multi-node",
                volume_capabilities=[
                    csi_pb2.VolumeCapability(
                        mount=csi_pb2.VolumeCapability.MountVolume(),
                        access_mode=Mode(mode=Mode.MULTI_NODE_MULTI_WRITER),
                    )
                ],
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            csi_pb2.CreateVolumeRequest(
                name="ext4",
                volume_capabilities=[
                    csi_pb2.VolumeCapability(
                        mount=csi_pb2.VolumeCapability.MountVolume(fs_type="ext4"),
                        access_mode=Mode(mode=Mode.SINGLE_NODE_WRITER),
                    )
                ],
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            csi_pb2.CreateVolumeRequest(
                name="range",
                volume_capabilities=[MOUNT],
                capacity_range=csi_pb2.CapacityRange(required_bytes=2, limit_bytes=1),
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            csi_pb2.CreateVolumeRequest(
                name="too-big",
                volume_capabilities=[MOUNT],
                capacity_range=csi_pb2.CapacityRange(required_bytes=64 << 30),
            ),
            grpc.StatusCode.RESOURCE_EXHAUSTED,
        ),
        (
            csi_pb2.CreateVolumeRequest(
                name="elsewhere",
                volume_capabilities=[MOUNT],
                accessibility_requirements=csi_pb2.TopologyRequirement(
                    requisite=[csi_pb2.Topology(segments={"topology.csi.kubelab.dev/node": "another-node"})]
                ),
            ),
            grpc.StatusCode.RESOURCE_EXHAUSTED,
        ),
    ],
    ids=["no-name", "no-capabilities", "multi-node", "ext4", "bad-range", "too-big", "other-node"],
)
def test_bad_create_requests_fail_and_leave_nothing(csi: Csi, request_: object, code: grpc.StatusCode) -> None:
    before = sorted(p.name for p in csi.driver.pool.volumes_dir.iterdir())
    assert code_of(csi.controller.CreateVolume, request_) == code
    assert sorted(p.name for p in csi.driver.pool.volumes_dir.iterdir()) == before


def test_size_is_enforced_and_capacity_follows(csi: Csi) -> None:
    free = csi.available()
    volume = csi.create("pvc-size", 24 * MiB)
    assert volume.capacity_bytes == 24 * MiB
    assert about(csi.available(), free - 24 * MiB), "the volume's capacity is reserved"
    target = csi.stage_publish(volume.volume_id, "size")
    written, error = write_until_full(target / "data", 64 * MiB)
    assert error is not None and error.errno == errno.EDQUOT, (written, error)
    assert 20 * MiB <= written <= 24 * MiB
    stats = csi.node.NodeGetVolumeStats(
        csi_pb2.NodeGetVolumeStatsRequest(volume_id=volume.volume_id, volume_path=str(target))
    )
    (usage,) = [u for u in stats.usage if u.unit == csi_pb2.VolumeUsage.BYTES]
    assert usage.total == 24 * MiB and usage.used >= written and usage.available == usage.total - usage.used
    assert not stats.volume_condition.abnormal
    csi.unpublish_unstage(volume.volume_id, "size")
    csi.delete(volume.volume_id)
    assert about(csi.available(), free), "deleting the volume gives its capacity back"


def test_topology_of_another_node_has_no_capacity(csi: Csi) -> None:
    other = csi_pb2.Topology(segments={"topology.csi.kubelab.dev/node": "another-node"})
    assert csi.controller.GetCapacity(csi_pb2.GetCapacityRequest(accessible_topology=other)).available_capacity == 0
    mine = csi_pb2.Topology(segments=csi.driver.config.topology)
    assert csi.controller.GetCapacity(csi_pb2.GetCapacityRequest(accessible_topology=mine)).available_capacity > 0


def test_online_expansion_lets_the_pod_write_more(csi: Csi) -> None:
    volume = csi.create("pvc-grow", 8 * MiB)
    target = csi.stage_publish(volume.volume_id, "grow")
    assert write_until_full(target / "a", 16 * MiB)[1] is not None
    grown = csi.controller.ControllerExpandVolume(
        csi_pb2.ControllerExpandVolumeRequest(
            volume_id=volume.volume_id, capacity_range=csi_pb2.CapacityRange(required_bytes=24 * MiB)
        )
    )
    assert grown.capacity_bytes == 24 * MiB and not grown.node_expansion_required
    assert write_until_full(target / "b", 12 * MiB) == (12 * MiB, None)
    # NodeExpandVolume with a range does the same on the node (the cluster's per-node deployment)
    node_grown = csi.node.NodeExpandVolume(
        csi_pb2.NodeExpandVolumeRequest(
            volume_id=volume.volume_id,
            volume_path=str(target),
            capacity_range=csi_pb2.CapacityRange(required_bytes=40 * MiB),
        )
    )
    assert node_grown.capacity_bytes == 40 * MiB
    assert write_until_full(target / "c", 12 * MiB) == (12 * MiB, None)
    csi.unpublish_unstage(volume.volume_id, "grow")
    csi.delete(volume.volume_id)


def test_list_volumes_pages_through_everything(csi: Csi) -> None:
    made = {csi.create(f"pvc-list-{i}", 4 * MiB).volume_id for i in range(5)}
    seen: list[str] = []
    token = ""
    while True:
        answer = csi.controller.ListVolumes(csi_pb2.ListVolumesRequest(max_entries=2, starting_token=token))
        seen += [e.volume.volume_id for e in answer.entries]
        assert len(answer.entries) <= 2
        token = answer.next_token
        if not token:
            break
    assert made <= set(seen) and len(seen) == len(set(seen))
    bad = csi_pb2.ListVolumesRequest(starting_token="not-a-token")
    assert code_of(csi.controller.ListVolumes, bad) == grpc.StatusCode.ABORTED
    for volume_id in made:
        csi.delete(volume_id)


def test_validate_capabilities(csi: Csi) -> None:
    volume = csi.create("pvc-validate", 4 * MiB)
    ok = csi.controller.ValidateVolumeCapabilities(
        csi_pb2.ValidateVolumeCapabilitiesRequest(volume_id=volume.volume_id, volume_capabilities=[MOUNT])
    )
    assert ok.HasField("confirmed")
    block = csi_pb2.VolumeCapability(
        block=csi_pb2.VolumeCapability.BlockVolume(), access_mode=Mode(mode=Mode.SINGLE_NODE_WRITER)
    )
    refused = csi.controller.ValidateVolumeCapabilities(
        csi_pb2.ValidateVolumeCapabilitiesRequest(volume_id=volume.volume_id, volume_capabilities=[block])
    )
    assert not refused.HasField("confirmed") and "filesystem" in refused.message
    unknown = csi_pb2.ValidateVolumeCapabilitiesRequest(volume_id="vol-0.x", volume_capabilities=[MOUNT])
    assert code_of(csi.controller.ValidateVolumeCapabilities, unknown) == grpc.StatusCode.NOT_FOUND
    csi.delete(volume.volume_id)
