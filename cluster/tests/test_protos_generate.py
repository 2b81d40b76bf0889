"""Generation from the pinned Go modules: every stub, every service, and the cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubelab_cluster.pins import pins
from kubelab_cluster.protos.generate import Result, generate
from kubelab_cluster.protos.sources import SOURCES
from kubelab_cluster.protos.stamp import STAMP_NAME, read_stamp

# One full method path per service: these are the paths kubelet and the runtimes call.
EXPECTED_METHODS = {
    "runtime.v1.RuntimeService": "/runtime.v1.RuntimeService/RunPodSandbox",
    "runtime.v1.ImageService": "/runtime.v1.ImageService/PullImage",
    "csi.v1.Identity": "/csi.v1.Identity/GetPluginInfo",
    "csi.v1.Controller": "/csi.v1.Controller/CreateVolume",
    "csi.v1.Node": "/csi.v1.Node/NodePublishVolume",
    "pluginregistration.Registration": "/pluginregistration.Registration/GetInfo",
    "v1beta1.Registration": "/v1beta1.Registration/Register",
    "v1beta1.DevicePlugin": "/v1beta1.DevicePlugin/ListAndWatch",
    "k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin": "/k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin/NodePrepareResources",
    "v1.PodResourcesLister": "/v1.PodResourcesLister/List",
}

EXPECTED_MODULES = {
    "cri-v1": "kubelab_protos.gen.cri.v1.api_pb2",
    "csi-v1": "kubelab_protos.gen.csi.v1.csi_pb2",
    "deviceplugin-v1beta1": "kubelab_protos.gen.deviceplugin.v1beta1.api_pb2",
    "pluginregistration-v1": "kubelab_protos.gen.pluginregistration.v1.api_pb2",
    "dra-v1": "kubelab_protos.gen.dra.v1.api_pb2",
    "podresources-v1": "kubelab_protos.gen.podresources.v1.api_pb2",
}


def test_sources_are_distinct_modules() -> None:
    assert {s.name: s.module_name for s in SOURCES} == EXPECTED_MODULES
    assert len({str(s.staged_path) for s in SOURCES}) == len(SOURCES)


def test_cold_generate_writes_messages_stubs_and_types(protos_cold: Result) -> None:
    assert not protos_cold.cached
    assert protos_cold.written == protos_cold.files
    for source in SOURCES:
        base = source.module_name.removeprefix("kubelab_protos.gen.").replace(".", "/")
        for suffix in (".py", ".pyi", "_grpc.py"):
            assert f"{base}{suffix}" in protos_cold.files
    root = protos_cold.out_root
    assert (root / "__init__.py").is_file() and (root / "cri" / "v1" / "__init__.py").is_file()
    assert not list(root.rglob("*.proto")), "staged .proto files must not land in the package"


def test_stamp_records_pinned_inputs(protos_cold: Result) -> None:
    stamp = read_stamp(protos_cold.out_root)
    assert stamp is not None and stamp["key"] == protos_cold.key
    p = pins()
    for source in SOURCES:
        recorded = stamp["inputs"][source.name]
        assert recorded["version"] == p.get(source.pin)
        assert recorded["origin"].endswith(f"{source.module}@{p.get(source.pin)}/{source.path}")
        assert recorded["overridden"] is False


def test_every_stub_module_imports(protos_report: dict[str, Any], protos_cold: Result) -> None:
    for source in SOURCES:
        module = protos_report["modules"][source.name]
        assert Path(module["file"]).is_relative_to(protos_cold.out_root)
        assert module["descriptor"] == str(source.staged_path)
        assert module["package"] == source.proto_package, "the proto package is the gRPC path prefix"
        assert module["services"], f"{source.name} defines no service"
        assert module["missing"] == []
        assert module["roundtrip"]


@pytest.mark.parametrize(("service", "method"), sorted(EXPECTED_METHODS.items()))
def test_method_paths(protos_report: dict[str, Any], service: str, method: str) -> None:
    assert method in protos_report["services"][service]


def test_second_generate_is_a_cached_noop(protos_cold: Result) -> None:
    before = {name: (protos_cold.out_root / name).stat().st_mtime_ns for name in (*protos_cold.files, STAMP_NAME)}
    again = generate(protos_cold.out_root)
    assert again.cached and again.key == protos_cold.key
    assert again.written == () and again.removed == ()
    assert {name: (protos_cold.out_root / name).stat().st_mtime_ns for name in before} == before
    assert again.seconds < max(protos_cold.seconds, 1.0)


def test_force_rewrites_nothing_identical(protos_copy: Path, protos_cold: Result) -> None:
    forced = generate(protos_copy, force=True)
    assert not forced.cached and forced.key == protos_cold.key
    assert forced.files == protos_cold.files and forced.written == ()


def test_missing_file_invalidates_the_cache(protos_copy: Path) -> None:
    (protos_copy / "dra" / "v1" / "api_pb2.py").unlink()
    result = generate(protos_copy)
    assert not result.cached and result.written == ("dra/v1/api_pb2.py",)
