"""Kubelet plugin registration, with the test as the kubelet's plugin watcher over the real socket."""

from __future__ import annotations

import logging
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from kubelab_kit.grpc import (
    DRA_PLUGIN,
    GrpcError,
    PluginRegistrar,
    RegistrationServicer,
    RegistrationTimeoutError,
    connect,
)
from kubelab_protos.gen.pluginregistration.v1 import api_pb2, api_pb2_grpc

NAME = "gpu.kubelab.dev"
ENDPOINT = "/var/lib/kubelet/plugins/gpu.kubelab.dev/dra.sock"


def registrar(registry: Path, **kwargs: Any) -> PluginRegistrar:
    args: dict[str, Any] = {
        "type": DRA_PLUGIN,
        "name": NAME,
        "endpoint": f"unix://{ENDPOINT}",
        "versions": ["v1.DRAPlugin", "v1beta1.DRAPlugin"],
        "registry_dir": registry,
    }
    return PluginRegistrar(**(args | kwargs))


def kubelet_notifies(socket: Path, registered: bool, error: str = "") -> Any:
    """What the kubelet does: GetInfo, (validate, register,) then NotifyRegistrationStatus."""
    with connect(socket, timeout=2) as channel:
        stub = api_pb2_grpc.RegistrationStub(channel)
        info = stub.GetInfo(api_pb2.InfoRequest(), timeout=2)
        stub.NotifyRegistrationStatus(api_pb2.RegistrationStatus(plugin_registered=registered, error=error), timeout=2)
        return info


def test_the_kubelet_gets_the_info_and_registration_is_waited_for(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    registry = tmp_path / "plugins_registry"
    with registrar(registry) as reg:
        assert reg.socket_path == registry / f"{NAME}-reg.sock"
        assert stat.S_IMODE(reg.socket_path.stat().st_mode) == 0o600
        assert not reg.registered.is_set()
        results: list[Any] = []
        kubelet = threading.Thread(target=lambda: results.append(kubelet_notifies(reg.socket_path, True)))
        kubelet.start()
        reg.wait_registered(timeout=5)
        kubelet.join(timeout=5)
        (info,) = results
        assert info.type == "DRAPlugin"
        assert info.name == NAME
        assert info.endpoint == ENDPOINT, "the endpoint is reported as a plain path"
        assert list(info.supported_versions) == ["v1.DRAPlugin", "v1beta1.DRAPlugin"]
        assert reg.error is None
        status = reg.servicer.last_status
        assert status is not None and status.registered and status.error == ""
        assert f"the kubelet registered DRAPlugin {NAME} (endpoint {ENDPOINT})" in caplog.text
        assert reg.server.metrics.count("/pluginregistration.Registration/GetInfo", "OK") == 1
    assert not reg.socket_path.exists(), "stopping removes the socket: the kubelet deregisters the plugin"


def test_a_rejection_is_recorded_logged_and_reported_by_wait_registered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with registrar(tmp_path) as reg:
        kubelet_notifies(reg.socket_path, False, "no handler supports versions [v9]")
        assert not reg.registered.is_set()
        assert reg.error == "no handler supports versions [v9]"
        error_records = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert [r.getMessage() for r in error_records] == [
            f"the kubelet rejected DRAPlugin {NAME}: no handler supports versions [v9]"
        ]
        with pytest.raises(RegistrationTimeoutError) as info:
            reg.wait_registered(timeout=0.05)
        assert "no handler supports versions [v9]" in str(info.value)
        assert "supported versions: v1.DRAPlugin, v1beta1.DRAPlugin" in str(info.value)
        # the kubelet retries, and this time it works; then a later rejection clears it again
        kubelet_notifies(reg.socket_path, True)
        reg.wait_registered(timeout=0)
        assert reg.error is None
        kubelet_notifies(reg.socket_path, False, "re-registration failed")
        assert not reg.registered.is_set()


def test_wait_registered_without_a_kubelet_says_what_to_check(tmp_path: Path) -> None:
    with registrar(tmp_path) as reg, pytest.raises(RegistrationTimeoutError) as info:
        reg.wait_registered(timeout=0.05)
    text = str(info.value)
    assert text.startswith(f"grpc: the kubelet did not ask for DRAPlugin {NAME} within 0.05s")
    assert f"journalctl -u kubelet | grep {NAME}" in text


def test_socket_name_is_settable_but_never_dot_named(tmp_path: Path) -> None:
    with registrar(tmp_path, socket_name=f"{NAME}-1234.sock") as reg:
        assert reg.socket_path == tmp_path / f"{NAME}-1234.sock"
        assert reg.socket_path.exists()
    with pytest.raises(GrpcError, match="ignored by the kubelet's plugin watcher"):
        registrar(tmp_path, socket_name=".hidden.sock")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"type": "GPUPlugin"}, "unknown kubelet plugin type 'GPUPlugin'"),
        ({"name": ""}, "needs a name"),
        ({"versions": []}, "lists no supported versions"),
    ],
)
def test_invalid_plugin_info_is_refused(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"type": DRA_PLUGIN, "name": NAME, "endpoint": ENDPOINT, "versions": ["v1.DRAPlugin"]}
    with pytest.raises(GrpcError, match=message):
        RegistrationServicer(**(args | kwargs))


def test_a_second_instance_of_the_plugin_is_refused(tmp_path: Path) -> None:
    with registrar(tmp_path) as reg:
        with pytest.raises(GrpcError, match="another server listens"):
            registrar(tmp_path).start()
        assert reg.socket_path.exists()
