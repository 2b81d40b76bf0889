"""Using the stubs: the hint when they are missing, binding a folder, what they serve, and a real gRPC call."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import kubelab_protos
from kubelab_protos import stubs

Python = Callable[..., subprocess.CompletedProcess[str]]

HINT = "run `kubelab-protos generate` or `nox -s protos`"


def test_require_gen_says_how_to_generate(tmp_path: Path) -> None:
    with pytest.raises(kubelab_protos.StubsMissingError) as caught:
        kubelab_protos.require_gen(tmp_path / "gen")
    assert isinstance(caught.value, ImportError)
    assert HINT in str(caught.value) and str(tmp_path / "gen") in str(caught.value)


def test_import_of_missing_stubs_gives_the_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``from kubelab_protos.gen.cri.v1 import api_pb2`` says before any generation."""
    monkeypatch.setattr(stubs, "GEN_DIR", tmp_path / "gen")
    monkeypatch.delitem(sys.modules, "kubelab_protos.gen", raising=False)
    finder = stubs._MissingStubsFinder()
    assert finder.find_spec("kubelab_cluster.pins", None) is None
    with pytest.raises(kubelab_protos.StubsMissingError, match=r"cannot import kubelab_protos\.gen\.cri\.v1\.api_pb2"):
        finder.find_spec("kubelab_protos.gen.cri.v1.api_pb2", None)


def test_unknown_stub_module_lists_the_generated_ones(cold: Path, python: Python) -> None:
    code = (
        "import sys, pathlib, kubelab_protos\n"
        "kubelab_protos.bind_gen_root(pathlib.Path(sys.argv[1]))\n"
        "import kubelab_protos.gen.cri.v9.api_pb2\n"
    )
    proc = python(code, str(cold))
    assert proc.returncode == 1
    assert "StubsMissingError: kubelab_protos.gen.cri.v9 is not a generated stub module" in proc.stderr
    assert "kubelab_protos.gen.cri.v1.api_pb2" in proc.stderr


def test_binding_a_second_folder_is_refused(cold: Path, copy_of_cold: Path, python: Python) -> None:
    code = (
        "import sys, pathlib, kubelab_protos\n"
        "kubelab_protos.bind_gen_root(pathlib.Path(sys.argv[1]))\n"
        "kubelab_protos.bind_gen_root(pathlib.Path(sys.argv[1]))\n"
        "kubelab_protos.bind_gen_root(pathlib.Path(sys.argv[2]))\n"
    )
    proc = python(code, str(cold), str(copy_of_cold))
    assert proc.returncode == 1 and "already imported from" in proc.stderr


GRPC_ROUNDTRIP = """
import sys, pathlib
from concurrent import futures
import grpc, kubelab_protos
kubelab_protos.bind_gen_root(pathlib.Path(sys.argv[1]))
from kubelab_protos.gen.pluginregistration.v1 import api_pb2, api_pb2_grpc

class Plugin(api_pb2_grpc.RegistrationServicer):
    def GetInfo(self, request, context):
        return api_pb2.PluginInfo(type="CSIPlugin", name="lab.example.com", supported_versions=["1.0.0"])

socket = f"unix://{sys.argv[2]}"
server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
api_pb2_grpc.add_RegistrationServicer_to_server(Plugin(), server)
server.add_insecure_port(socket)
server.start()
with grpc.insecure_channel(socket) as channel:
    info = api_pb2_grpc.RegistrationStub(channel).GetInfo(api_pb2.InfoRequest(), timeout=10)
    raw = channel.unary_unary("/pluginregistration.Registration/GetInfo")(b"", timeout=10)
server.stop(None)
print(info.type, info.name, ",".join(info.supported_versions), api_pb2.PluginInfo.FromString(raw).name)
"""


def test_stubs_serve_and_call_over_a_unix_socket(cold: Path, python: Python, tmp_path: Path) -> None:
    proc = python(GRPC_ROUNDTRIP, str(cold), str(tmp_path / "plugin.sock"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["CSIPlugin", "lab.example.com", "1.0.0", "lab.example.com"]


def test_generated_means_the_package_marker(cold: Path, copy_of_cold: Path) -> None:
    """The generator's stamp is its own business: ``gen/__init__.py`` alone says "generated"."""
    assert kubelab_protos.is_generated(cold) and kubelab_protos.require_gen(cold) == cold
    (copy_of_cold / "__init__.py").unlink()
    assert not kubelab_protos.is_generated(copy_of_cold)
    with pytest.raises(kubelab_protos.StubsMissingError, match="not generated"):
        kubelab_protos.require_gen(copy_of_cold)


def test_services_match_the_generators_list(
    cold: Path, python: Python, kubelab_protos_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """``kubelab_protos.services()`` (runtime) and ``kubelab-protos list --json`` (generator) agree."""
    code = (
        "import sys, json, pathlib, kubelab_protos\n"
        "print(json.dumps(kubelab_protos.services(pathlib.Path(sys.argv[1]))))\n"
    )
    proc = python(code, str(cold))
    assert proc.returncode == 0, proc.stderr
    listed = kubelab_protos_cli("list", "--out", str(cold), "--json")
    assert listed.returncode == 0, listed.stderr
    found = json.loads(proc.stdout)
    assert found == json.loads(listed.stdout)
    assert "/runtime.v1.RuntimeService/RunPodSandbox" in found["runtime.v1.RuntimeService"]
