"""The plugin against a fake kubelet: registration, ListAndWatch, Allocate, and registering again."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from kubelab_deviceplugin import RESOURCE, cdi
from kubelab_deviceplugin.inventory import seed, set_health
from kubelab_deviceplugin.plugin import DevicePlugin, PluginConfig
from kubelab_kit.grpc import Server, connect
from kubelab_protos.gen.deviceplugin.v1beta1 import api_pb2, api_pb2_grpc


class FakeKubelet(api_pb2_grpc.RegistrationServicer):  # type: ignore[misc,unused-ignore]
    """The kubelet's Registration service: records each RegisterRequest."""

    def __init__(self) -> None:
        self.requests: queue.Queue[Any] = queue.Queue()

    def Register(self, request: Any, context: Any) -> Any:
        self.requests.put(request)
        return api_pb2.Empty()


def kubelet_server(plugins: Path, kubelet: FakeKubelet) -> Server:
    return Server(plugins / "kubelet.sock", [(api_pb2_grpc.add_RegistrationServicer_to_server, kubelet)], grace=0.1)


@pytest.fixture
def node(tmp_path: Path) -> Iterator[tuple[PluginConfig, DevicePlugin, FakeKubelet, Server]]:
    config = PluginConfig(
        resource=RESOURCE,
        devices_file=tmp_path / "devices.json",
        state_dir=tmp_path / "state",
        cdi_dir=tmp_path / "cdi",
        plugins_dir=tmp_path / "plugins",
        poll=0.05,
    )
    seed(config.devices_file, 4, 2)
    kubelet = FakeKubelet()
    server = kubelet_server(config.plugins_dir, kubelet)
    server.start()
    plugin = DevicePlugin(config)
    stop = threading.Event()
    thread = threading.Thread(target=plugin.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield config, plugin, kubelet, server
    finally:
        stop.set()
        thread.join(5)
        server.stop()
    assert not thread.is_alive()
    assert not config.socket.exists() and not cdi.spec_path(config.cdi_dir, RESOURCE).exists()  # nothing left behind


def stub(config: PluginConfig) -> Any:
    channel = connect(config.socket, timeout=5.0)
    return api_pb2_grpc.DevicePluginStub(channel)  # type: ignore[no-untyped-call,unused-ignore]


def test_registers_and_streams_health_changes(node: Any) -> None:
    config, _plugin, kubelet, _server = node
    request = kubelet.requests.get(timeout=5)
    assert (request.version, request.resource_name, request.endpoint) == ("v1beta1", RESOURCE, config.socket.name)
    assert request.options.get_preferred_allocation_available
    stream = stub(config).ListAndWatch(api_pb2.Empty(), timeout=10)
    first = next(stream)
    assert [(d.ID, d.health) for d in first.devices] == [(f"accel-{i}", "Healthy") for i in range(4)]
    set_health(config.devices_file, "accel-2", False)
    second = next(stream)
    assert {d.ID: d.health for d in second.devices}["accel-2"] == "Unhealthy"
    stream.cancel()


def test_allocate_gives_env_mounts_and_cdi_devices(node: Any) -> None:
    config, _plugin, kubelet, _server = node
    kubelet.requests.get(timeout=5)
    answer = (
        stub(config)
        .Allocate(
            api_pb2.AllocateRequest(
                container_requests=[api_pb2.ContainerAllocateRequest(devices_ids=["accel-0", "accel-1"])]
            )
        )
        .container_responses[0]
    )
    assert answer.envs["KUBELAB_ACCELERATORS"] == "accel-0,accel-1"
    assert [(m.container_path, m.read_only) for m in answer.mounts] == [
        ("/var/run/kubelab/accelerators/accel-0", True), ("/var/run/kubelab/accelerators/accel-1", True),
    ]  # fmt: skip
    assert (Path(answer.mounts[0].host_path) / "info").read_text() == "id=accel-0\nlink=link-0\n"
    assert [d.name for d in answer.cdi_devices] == [f"{RESOURCE}=accel-0", f"{RESOURCE}=accel-1"]
    spec = json.loads(cdi.spec_path(config.cdi_dir, RESOURCE).read_text())
    assert spec["kind"] == RESOURCE and [d["name"] for d in spec["devices"]] == [f"accel-{i}" for i in range(4)]


def test_unknown_and_unhealthy_devices_are_refused(node: Any) -> None:
    config, plugin, kubelet, _server = node
    kubelet.requests.get(timeout=5)
    client = stub(config)

    def code(ids: list[str]) -> tuple[grpc.StatusCode, str]:
        request = api_pb2.AllocateRequest(container_requests=[api_pb2.ContainerAllocateRequest(devices_ids=ids)])
        with pytest.raises(grpc.RpcError) as err:
            client.Allocate(request)
        return err.value.code(), err.value.details()

    assert code(["accel-0", "accel-9"]) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        f"unknown device accel-9 of {RESOURCE}: this node has accel-0, accel-1, accel-2, accel-3",
    )
    set_health(config.devices_file, "accel-3", False)
    while plugin.inventory.get("accel-3").healthy:  # type: ignore[union-attr]
        plugin.inventory.refresh()
    assert code(["accel-3"]) == (grpc.StatusCode.FAILED_PRECONDITION, f"device accel-3 of {RESOURCE} is unhealthy")
    preferred = client.GetPreferredAllocation(
        api_pb2.PreferredAllocationRequest(
            container_requests=[
                api_pb2.ContainerPreferredAllocationRequest(
                    available_deviceIDs=["accel-1", "accel-2"], must_include_deviceIDs=["accel-1"], allocation_size=1
                )
            ]
        )
    )
    assert list(preferred.container_responses[0].deviceIDs) == ["accel-1"]


def test_registers_again_after_a_kubelet_restart_and_a_lost_socket(node: Any) -> None:
    config, plugin, kubelet, server = node
    kubelet.requests.get(timeout=5)
    server.stop()  # the kubelet goes and comes back with a new socket
    again = FakeKubelet()
    restarted = kubelet_server(config.plugins_dir, again)
    restarted.start()
    try:
        assert again.requests.get(timeout=10).resource_name == RESOURCE
        config.socket.unlink()  # someone removed the plugin's socket
        assert again.requests.get(timeout=10).resource_name == RESOURCE
        assert config.socket.exists() and plugin.rounds == 3
    finally:
        restarted.stop()
