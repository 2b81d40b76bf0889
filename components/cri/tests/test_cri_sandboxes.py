"""Pod sandboxes on this host: network namespaces wired by the reference CNI plugins (ptp +
host-local + portmap, from the toolchain) through the sandbox's configuration list, as the
kubelet asks for them over the socket; a failing ADD leaves nothing behind."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from kubelab_cri.runtime.info import RuntimeInfo
from kubelab_cri.runtime.sandboxes import Sandboxes
from kubelab_cri.runtime.service import RuntimeService
from kubelab_kit.cni.conflist import load_network
from kubelab_kit.grpc import Server, connect
from kubelab_protos.gen.cri.v1 import api_pb2, api_pb2_grpc

from .pods import cni_bin_dir, config, conflist, nat_rules, our_netns, reserved

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")


@pytest.fixture(scope="module")
def bin_dir() -> Path:
    return cni_bin_dir()


def serve(tmp: Path, conf_dir: Path, bin_dir: Path) -> Server:
    sandboxes = Sandboxes(tmp / "root", lambda: load_network(conf_dir, [str(bin_dir)]))
    service = RuntimeService(RuntimeInfo(cni_conf_dir=conf_dir), sandboxes)
    return Server(tmp / "run" / "cri.sock", [(api_pb2_grpc.add_RuntimeServiceServicer_to_server, service)])


@pytest.fixture
def runtime(tmp_path: Path, bin_dir: Path) -> Iterator[api_pb2_grpc.RuntimeServiceStub]:
    with serve(tmp_path, conflist(tmp_path), bin_dir) as server, connect(server.path) as channel:
        yield api_pb2_grpc.RuntimeServiceStub(channel)


def test_run_status_list_stop_remove(runtime: api_pb2_grpc.RuntimeServiceStub, tmp_path: Path) -> None:
    before = our_netns()
    sandbox_id = runtime.RunPodSandbox(api_pb2.RunPodSandboxRequest(config=config("web"))).pod_sandbox_id
    status = runtime.PodSandboxStatus(api_pb2.PodSandboxStatusRequest(pod_sandbox_id=sandbox_id)).status
    assert status.state == api_pb2.SANDBOX_READY and status.network.ip.startswith("10.250.77.")
    assert dict(status.labels) == {"app": "web"} and dict(status.annotations) == {"kubelab.dev/test": "yes"}
    (netns,) = our_netns() - before
    addresses = subprocess.run(
        ["ip", "-n", netns, "-j", "addr", "show", "eth0"], capture_output=True, text=True, check=True
    ).stdout
    assert status.network.ip in addresses
    assert reserved(tmp_path) == [status.network.ip]
    assert sandbox_id in nat_rules() and "--dport 18080" in nat_rules(), "portmap got the port mapping"

    other = runtime.RunPodSandbox(api_pb2.RunPodSandboxRequest(config=config("db", tier="data"))).pod_sandbox_id
    by_label = runtime.ListPodSandbox(
        api_pb2.ListPodSandboxRequest(filter=api_pb2.PodSandboxFilter(label_selector={"tier": "data"}))
    )
    assert [s.id for s in by_label.items] == [other]
    by_id = runtime.ListPodSandbox(api_pb2.ListPodSandboxRequest(filter=api_pb2.PodSandboxFilter(id=sandbox_id[:12])))
    assert not by_id.items, "the id filter is exact"

    for _ in range(2):  # idempotent
        runtime.StopPodSandbox(api_pb2.StopPodSandboxRequest(pod_sandbox_id=sandbox_id))
    assert netns not in our_netns() and status.network.ip not in reserved(tmp_path)
    ready = api_pb2.PodSandboxFilter(state=api_pb2.PodSandboxStateValue(state=api_pb2.SANDBOX_READY))
    assert [s.id for s in runtime.ListPodSandbox(api_pb2.ListPodSandboxRequest(filter=ready)).items] == [other]
    for sid in (sandbox_id, other, sandbox_id):  # remove stops a ready one; removing twice is fine
        runtime.RemovePodSandbox(api_pb2.RemovePodSandboxRequest(pod_sandbox_id=sid))
    assert our_netns() == before and reserved(tmp_path) == []
    assert sandbox_id not in nat_rules() and other not in nat_rules(), "portmap's rules went with the sandboxes"
    with pytest.raises(grpc.RpcError) as err:
        runtime.PodSandboxStatus(api_pb2.PodSandboxStatusRequest(pod_sandbox_id=sandbox_id))
    assert err.value.code() is grpc.StatusCode.NOT_FOUND


def test_a_restarted_runtime_finds_its_sandboxes(tmp_path: Path, bin_dir: Path) -> None:
    conf_dir = conflist(tmp_path)
    with serve(tmp_path, conf_dir, bin_dir) as server, connect(server.path) as channel:
        sandbox_id = (
            api_pb2_grpc.RuntimeServiceStub(channel)
            .RunPodSandbox(api_pb2.RunPodSandboxRequest(config=config("kept")))
            .pod_sandbox_id
        )
    with serve(tmp_path, conf_dir, bin_dir) as server, connect(server.path) as channel:
        runtime = api_pb2_grpc.RuntimeServiceStub(channel)
        assert [s.id for s in runtime.ListPodSandbox(api_pb2.ListPodSandboxRequest()).items] == [sandbox_id]
        runtime.RemovePodSandbox(api_pb2.RemovePodSandboxRequest(pod_sandbox_id=sandbox_id))
    assert reserved(tmp_path) == []


def test_a_failing_add_leaves_nothing(tmp_path: Path, bin_dir: Path) -> None:
    conf_dir = conflist(tmp_path, extra=[{"type": "kubelab-no-such-plugin"}])
    before = our_netns()
    with serve(tmp_path, conf_dir, bin_dir) as server, connect(server.path) as channel:
        runtime = api_pb2_grpc.RuntimeServiceStub(channel)
        with pytest.raises(grpc.RpcError) as err:
            runtime.RunPodSandbox(api_pb2.RunPodSandboxRequest(config=config("broken")))
        assert err.value.code() is grpc.StatusCode.UNKNOWN
        assert "kubelab-no-such-plugin" in str(err.value.details())
        assert not runtime.ListPodSandbox(api_pb2.ListPodSandboxRequest()).items
    assert our_netns() == before, "the namespace was deleted"
    assert reserved(tmp_path) == [], "ptp's ADD was undone: its address released"


def test_bad_metadata_is_invalid_argument(runtime: api_pb2_grpc.RuntimeServiceStub) -> None:
    bad = api_pb2.PodSandboxConfig(metadata=api_pb2.PodSandboxMetadata(name="x"))
    with pytest.raises(grpc.RpcError) as err:
        runtime.RunPodSandbox(api_pb2.RunPodSandboxRequest(config=bad))
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "metadata.namespace, metadata.uid" in str(err.value.details())
