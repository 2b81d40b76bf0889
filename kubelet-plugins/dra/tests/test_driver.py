"""The driver as the kubelet sees it: registration, DRA v1 calls over the socket, faults, a vanished socket."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from kubelab_dra import CDI_KIND, DRIVER
from kubelab_dra.devices import seed
from kubelab_dra.driver import Driver, DriverConfig
from kubelab_kit import cdi
from kubelab_kit.grpc import connect
from kubelab_protos.gen.dra.v1 import api_pb2, api_pb2_grpc
from kubelab_protos.gen.pluginregistration.v1 import api_pb2 as reg_pb2
from kubelab_protos.gen.pluginregistration.v1 import api_pb2_grpc as reg_grpc

from .conftest import NODE, FakeApi, claim


def wait_for(path: Path, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"no {path}"
        time.sleep(0.02)


@pytest.fixture
def running(tmp_path: Path, fake_api: FakeApi) -> Iterator[tuple[Driver, threading.Event]]:
    seed(tmp_path / "devices.json", 4, ["lab-small", "lab-large"], 2)
    config = DriverConfig(
        node=NODE,
        devices_file=tmp_path / "devices.json",
        checkpoint_file=tmp_path / "checkpoint.json",
        cdi_dir=tmp_path / "cdi",
        plugins_dir=tmp_path / "plugins",
        registry_dir=tmp_path / "registry",
        poll=0.05,
    )
    driver = Driver(config, fake_api)  # type: ignore[arg-type]
    stop = threading.Event()
    rounds = threading.Thread(target=lambda: [driver.serve_once(stop) for _ in range(2)], daemon=True)
    rounds.start()
    wait_for(config.socket)
    yield driver, stop
    stop.set()
    rounds.join(timeout=5)


def prepare(socket: Path, *claims: api_pb2.Claim) -> api_pb2.NodePrepareResourcesResponse:
    with connect(socket) as channel:
        stub = api_pb2_grpc.DRAPluginStub(channel)  # type: ignore[no-untyped-call,unused-ignore]
        return stub.NodePrepareResources(api_pb2.NodePrepareResourcesRequest(claims=list(claims)), timeout=5)


def test_registration_names_the_dra_socket(running: tuple[Driver, threading.Event], tmp_path: Path) -> None:
    driver, _ = running
    reg = tmp_path / "registry" / f"{DRIVER}-reg.sock"
    wait_for(reg)
    with connect(reg) as channel:
        stub = reg_grpc.RegistrationStub(channel)  # type: ignore[no-untyped-call,unused-ignore]
        info = stub.GetInfo(reg_pb2.InfoRequest(), timeout=5)
        stub.NotifyRegistrationStatus(reg_pb2.RegistrationStatus(plugin_registered=True), timeout=5)
    assert (info.type, info.name, list(info.supported_versions)) == ("DRAPlugin", DRIVER, ["v1.DRAPlugin"])
    assert info.endpoint == str(driver.config.socket)
    assert driver.registered.is_set()


def test_prepare_and_unprepare_over_the_socket(running: tuple[Driver, threading.Event], fake_api: FakeApi) -> None:
    driver, _ = running
    answer = prepare(driver.config.socket, api_pb2.Claim(namespace="lab", name="gpu", uid="uid-1"))
    device = answer.claims["uid-1"].devices[0]
    assert (list(device.request_names), device.pool_name, device.device_name) == (["gpu"], NODE, "accel-1")
    assert list(device.cdi_device_ids) == [f"{CDI_KIND}=uid-1-accel-1"]
    again = prepare(driver.config.socket, api_pb2.Claim(namespace="lab", name="gpu", uid="uid-1"))
    assert again == answer and fake_api.gets == ["lab/gpu"]  # the second answer is the checkpoint's
    with connect(driver.config.socket) as channel:
        stub = api_pb2_grpc.DRAPluginStub(channel)  # type: ignore[no-untyped-call,unused-ignore]
        request = api_pb2.NodeUnprepareResourcesRequest(
            claims=[api_pb2.Claim(namespace="lab", name="gpu", uid="uid-1")]
        )
        done = stub.NodeUnprepareResources(request, timeout=5)
    assert done.claims["uid-1"].error == ""
    assert cdi.suffixes(driver.config.cdi_dir, CDI_KIND) == [] and driver.preparer.checkpoint.uids() == []


def test_bad_claims_are_answered_per_claim(running: tuple[Driver, threading.Event], fake_api: FakeApi) -> None:
    driver, _ = running
    fake_api.claims["lab/ghost"] = claim(name="ghost", results=[{"request": "r", "driver": DRIVER, "pool": NODE,
                                                                   "device": "accel-9"}])  # fmt: skip
    answer = prepare(
        driver.config.socket,
        api_pb2.Claim(namespace="lab", name="missing", uid="uid-x"),
        api_pb2.Claim(namespace="lab", name="ghost", uid="uid-1"),
        api_pb2.Claim(namespace="lab", name="gpu", uid="uid-old"),
    )
    assert "not found" in answer.claims["uid-x"].error
    assert "no device accel-9 on kubelab-worker" in answer.claims["uid-1"].error
    assert "it was deleted and made again" in answer.claims["uid-old"].error
    assert driver.preparer.checkpoint.uids() == [] and cdi.suffixes(driver.config.cdi_dir, CDI_KIND) == []


def test_a_request_without_claims_or_uids_is_invalid(running: tuple[Driver, threading.Event]) -> None:
    driver, _ = running
    for claims in ([], [api_pb2.Claim(namespace="lab", name="gpu")]):
        with pytest.raises(grpc.RpcError) as info:
            prepare(driver.config.socket, *claims)
        assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_a_vanished_socket_is_served_again(running: tuple[Driver, threading.Event]) -> None:
    driver, _ = running
    assert driver.rounds == 1
    driver.config.socket.unlink()
    deadline = time.monotonic() + 5
    while driver.rounds < 2 or not driver.config.socket.exists():
        assert time.monotonic() < deadline, "the driver did not serve again"
        time.sleep(0.02)
    answer = prepare(driver.config.socket, api_pb2.Claim(namespace="lab", name="gpu", uid="uid-1"))
    assert answer.claims["uid-1"].devices[0].device_name == "accel-1"
