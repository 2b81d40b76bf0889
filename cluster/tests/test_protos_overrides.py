"""Overrides: change one input and exactly its stubs regenerate; a broken input is named."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kubelab_cluster.protos.errors import ProtosError
from kubelab_cluster.protos.generate import Result, generate
from kubelab_cluster.protos.stamp import STAMP_NAME

# An extra rpc changes the descriptor and the service stubs; the message type stubs (.pyi) stay as they were.
CRI_STUBS = ("cri/v1/api_pb2.py", "cri/v1/api_pb2_grpc.py")


def pinned_origin(result: Result, name: str) -> Path:
    return next(i.origin for i in result.inputs if i.source.name == name)


def with_extra_rpc(protos_cold: Result, tmp_path: Path) -> Path:
    """The pinned CRI api.proto plus ``rpc LabPing(VersionRequest) returns (VersionResponse)``."""
    text = pinned_origin(protos_cold, "cri-v1").read_text()
    edited, count = re.subn(
        r"service RuntimeService \{",
        "service RuntimeService {\n    rpc LabPing(VersionRequest) returns (VersionResponse) {}",
        text,
        count=1,
    )
    assert count == 1
    path = tmp_path / "cri-extra-rpc.proto"
    path.write_text(edited)
    return path


def test_override_regenerates_only_its_stubs(
    protos_cold: Result, protos_copy: Path, tmp_path: Path, inspect_stubs: Callable[[Path], dict[str, Any]]
) -> None:
    edited = with_extra_rpc(protos_cold, tmp_path)
    changed = generate(protos_copy, {"cri-v1": edited})
    assert not changed.cached and changed.key != protos_cold.key
    assert changed.written == CRI_STUBS
    assert next(i for i in changed.inputs if i.source.name == "cri-v1").overridden

    services = inspect_stubs(protos_copy)["services"]
    assert "/runtime.v1.RuntimeService/LabPing" in services["runtime.v1.RuntimeService"]
    assert "/runtime.v1.RuntimeService/RunPodSandbox" in services["runtime.v1.RuntimeService"]

    assert generate(protos_copy, {"cri-v1": edited}).cached
    back = generate(protos_copy)
    assert not back.cached and back.key == protos_cold.key and back.written == CRI_STUBS


def test_malformed_override_names_the_file(protos_copy: Path, tmp_path: Path) -> None:
    bad = tmp_path / "broken.proto"
    bad.write_text('syntax = "proto3";\npackage csi.v1;\nservice Identity {\n  rpc GetPluginInfo(NoSuchMessage)\n')
    stamp_before = (protos_copy / STAMP_NAME).read_text()
    with pytest.raises(ProtosError) as caught:
        generate(protos_copy, {"csi-v1": bad})
    message = str(caught.value)
    assert f"protoc rejected {bad}" in message and "csi-v1, override" in message
    assert f"{bad}:" in message, "protoc's own lines must point at the real file, not the staged copy"
    assert "kubelab_protos/gen/csi" not in message
    assert (protos_copy / STAMP_NAME).read_text() == stamp_before, "a failed run must leave the stubs alone"


def test_override_must_keep_the_proto_package(protos_cold: Result, tmp_path: Path) -> None:
    renamed = tmp_path / "renamed.proto"
    renamed.write_text(
        pinned_origin(protos_cold, "dra-v1").read_text().replace("package k8s.io.kubelet", "package example")
    )
    with pytest.raises(ProtosError, match=r"renamed\.proto \(dra-v1\) declares package example\.pkg\.apis\.dra\.v1"):
        generate(tmp_path / "gen", {"dra-v1": renamed})


def test_unknown_or_missing_override(tmp_path: Path) -> None:
    with pytest.raises(ProtosError, match=r"(?s)unknown proto source.*nope.*override one of: cri-v1"):
        generate(tmp_path / "gen", {"nope": tmp_path / "x.proto"})
    with pytest.raises(ProtosError, match=r"cannot read the override for csi-v1 at .*missing\.proto"):
        generate(tmp_path / "gen", {"csi-v1": tmp_path / "missing.proto"})


def test_stamp_is_json_with_the_override(protos_copy: Path, protos_cold: Result, tmp_path: Path) -> None:
    edited = with_extra_rpc(protos_cold, tmp_path)
    generate(protos_copy, {"cri-v1": edited})
    stamp = json.loads((protos_copy / STAMP_NAME).read_text())
    assert stamp["inputs"]["cri-v1"]["origin"] == str(edited.resolve())
    assert stamp["inputs"]["cri-v1"]["overridden"] is True
    assert stamp["inputs"]["csi-v1"]["overridden"] is False
