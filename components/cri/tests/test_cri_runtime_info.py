"""The answers the kubelet asks for first, over the real socket: our stubs, then crictl (the
toolchain's, cri-tools 1.37) as the referee."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from kubelab_cluster.pins import pins
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.build import build
from kubelab_cri.runtime.info import RuntimeInfo
from kubelab_cri.runtime.service import RuntimeService
from kubelab_kit.grpc import Server, connect
from kubelab_protos.gen.cri.v1 import api_pb2, api_pb2_grpc


@pytest.fixture
def cni_dir(tmp_path: Path) -> Path:
    path = tmp_path / "net.d"
    path.mkdir()
    return path


@pytest.fixture
def socket(tmp_path: Path, cni_dir: Path) -> Iterator[Path]:
    path = tmp_path / "run" / "kubelab-cri.sock"
    service = RuntimeService(RuntimeInfo(cgroup_driver="systemd", cni_conf_dir=cni_dir))
    with Server(path, [(api_pb2_grpc.add_RuntimeServiceServicer_to_server, service)]):
        yield path


@pytest.fixture
def runtime(socket: Path) -> Iterator[api_pb2_grpc.RuntimeServiceStub]:
    with connect(socket) as channel:
        yield api_pb2_grpc.RuntimeServiceStub(channel)


def conditions(status: api_pb2.StatusResponse) -> dict[str, tuple[bool, str]]:
    return {c.type: (c.status, c.reason) for c in status.status.conditions}


def test_version_is_what_the_kubelet_accepts(runtime: api_pb2_grpc.RuntimeServiceStub) -> None:
    got = runtime.Version(api_pb2.VersionRequest())
    assert (got.version, got.runtime_name, got.runtime_api_version) == ("0.1.0", "kubelab-cri", "v1")


def test_network_ready_follows_the_cni_configuration(runtime: api_pb2_grpc.RuntimeServiceStub, cni_dir: Path) -> None:
    assert conditions(runtime.Status(api_pb2.StatusRequest())) == {
        "RuntimeReady": (True, ""),
        "NetworkReady": (False, "NetworkPluginNotReady"),
    }
    (cni_dir / "README").write_text("not a network configuration")
    assert not conditions(runtime.Status(api_pb2.StatusRequest()))["NetworkReady"][0]
    (cni_dir / "10-kubelab.conflist").write_text('{"cniVersion": "1.1.0", "name": "kubelab", "plugins": []}')
    status = runtime.Status(api_pb2.StatusRequest(verbose=True))
    assert conditions(status)["NetworkReady"] == (True, "")
    assert status.info["cniConfig"].endswith("10-kubelab.conflist")


def test_runtime_config_names_the_cgroup_driver(runtime: api_pb2_grpc.RuntimeServiceStub) -> None:
    assert runtime.RuntimeConfig(api_pb2.RuntimeConfigRequest()).linux.cgroup_driver == api_pb2.SYSTEMD


def test_a_method_not_written_yet_is_unimplemented_with_its_name(runtime: api_pb2_grpc.RuntimeServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as err:
        runtime.CheckpointContainer(api_pb2.CheckpointContainerRequest())
    assert err.value.code() is grpc.StatusCode.UNIMPLEMENTED
    assert "runtime.v1.RuntimeService/CheckpointContainer" in str(err.value.details())


def test_an_unknown_cgroup_driver_is_refused() -> None:
    with pytest.raises(ValueError, match="cgroup driver 'cgroupv3'"):
        RuntimeInfo(cgroup_driver="cgroupv3")


@pytest.fixture(scope="module")
def crictl() -> Path:
    return build(BY_NAME["crictl"], pins()).binaries["crictl"]


def test_crictl_reads_version_and_status(crictl: Path, socket: Path, cni_dir: Path) -> None:
    (cni_dir / "10-kubelab.conflist").write_text('{"cniVersion": "1.1.0", "name": "kubelab", "plugins": []}')
    endpoint = f"unix://{socket}"
    base = [str(crictl), "--runtime-endpoint", endpoint, "--image-endpoint", endpoint, "--timeout", "10s"]
    version = subprocess.run([*base, "version"], capture_output=True, text=True, check=True, timeout=30).stdout
    assert "RuntimeName:  kubelab-cri" in version and "RuntimeApiVersion:  v1" in version, version
    info = json.loads(subprocess.run([*base, "info"], capture_output=True, text=True, check=True, timeout=30).stdout)
    ready = {c["type"]: c["status"] for c in info["status"]["conditions"]}
    assert ready == {"RuntimeReady": True, "NetworkReady": True}, info
