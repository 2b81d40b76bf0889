"""The driver's test kit: the driver on a scratch btrfs pool (a loop image in a temporary folder), its stubs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from kubelab_csi.testing import Running, running_driver
from kubelab_kit.grpc import connect
from kubelab_protos.gen.csi.v1 import csi_pb2, csi_pb2_grpc

if os.geteuid() != 0:
    pytest.skip("the driver's tests mount loop images: run them as root", allow_module_level=True)

Mode = csi_pb2.VolumeCapability.AccessMode
MOUNT = csi_pb2.VolumeCapability(
    mount=csi_pb2.VolumeCapability.MountVolume(), access_mode=Mode(mode=Mode.SINGLE_NODE_WRITER)
)
BLOCK = csi_pb2.VolumeCapability(
    block=csi_pb2.VolumeCapability.BlockVolume(), access_mode=Mode(mode=Mode.SINGLE_NODE_WRITER)
)
MiB = 1 << 20


@dataclass
class Csi:
    driver: Running
    identity: csi_pb2_grpc.IdentityStub
    controller: csi_pb2_grpc.ControllerStub
    node: csi_pb2_grpc.NodeStub

    @classmethod
    def over(cls, driver: Running, channel: grpc.Channel) -> Csi:
        return cls(
            driver,
            csi_pb2_grpc.IdentityStub(channel),
            csi_pb2_grpc.ControllerStub(channel),
            csi_pb2_grpc.NodeStub(channel),
        )

    @property
    def folder(self) -> Path:
        return self.driver.folder

    def create(self, name: str, size: int, cap: csi_pb2.VolumeCapability = MOUNT, **kw: object) -> csi_pb2.Volume:
        request = csi_pb2.CreateVolumeRequest(
            name=name, capacity_range=csi_pb2.CapacityRange(required_bytes=size), volume_capabilities=[cap], **kw
        )
        return self.controller.CreateVolume(request).volume

    def stage_publish(self, volume_id: str, where: str, cap: csi_pb2.VolumeCapability = MOUNT, **kw: object) -> Path:
        """Stage and publish as the kubelet does; the target path (a directory, or a device file for block)."""
        staging = self.folder / where / "globalmount"
        target = self.folder / where / ("dev" if cap.HasField("block") else "mount")
        self.node.NodeStageVolume(
            csi_pb2.NodeStageVolumeRequest(volume_id=volume_id, staging_target_path=str(staging), volume_capability=cap)
        )
        self.node.NodePublishVolume(
            csi_pb2.NodePublishVolumeRequest(
                volume_id=volume_id,
                staging_target_path=str(staging),
                target_path=str(target),
                volume_capability=cap,
                **kw,
            )
        )
        return target

    def unpublish_unstage(self, volume_id: str, where: str, cap: csi_pb2.VolumeCapability = MOUNT) -> None:
        target = self.folder / where / ("dev" if cap.HasField("block") else "mount")
        self.node.NodeUnpublishVolume(csi_pb2.NodeUnpublishVolumeRequest(volume_id=volume_id, target_path=str(target)))
        self.node.NodeUnstageVolume(
            csi_pb2.NodeUnstageVolumeRequest(
                volume_id=volume_id, staging_target_path=str(self.folder / where / "globalmount")
            )
        )

    def delete(self, volume_id: str) -> None:
        self.controller.DeleteVolume(csi_pb2.DeleteVolumeRequest(volume_id=volume_id))

    def available(self) -> int:
        return int(self.controller.GetCapacity(csi_pb2.GetCapacityRequest()).available_capacity)


@pytest.fixture(scope="module")
def csi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Csi]:
    with running_driver(tmp_path_factory.mktemp("csi"), size=2 << 30) as driver, connect(driver.endpoint) as channel:
        yield Csi.over(driver, channel)


def code_of(call: object, *args: object) -> grpc.StatusCode:
    """The status code ``call(*args)`` fails with (the test fails if it succeeds)."""
    try:
        call(*args)  # type: ignore[operator]
    except grpc.RpcError as exc:
        return exc.code()  # type: ignore[no-any-return]
    raise AssertionError(f"{call} succeeded")


def write_until_full(path: Path, limit: int) -> tuple[int, OSError | None]:
    """Write 1 MiB blocks (synced) to ``path`` until ``limit`` bytes or an error; bytes written and the error."""
    written = 0
    try:
        with open(path, "wb") as fh:
            while written < limit:
                fh.write(os.urandom(MiB))
                fh.flush()
                os.fsync(fh.fileno())
                written += MiB
    except OSError as exc:
        return written, exc
    return written, None


def about(actual: int, expected: int, slack: int = MiB) -> bool:
    """Within ``slack`` bytes: free space moves by a subvolume's tree blocks as well as by its data."""
    return abs(actual - expected) <= slack
