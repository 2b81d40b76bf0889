"""Overrides: change one input and exactly its stubs regenerate; a broken input is named."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kubelab_protos.errors import ProtosError
from kubelab_protos.generate import Result, generate
from kubelab_protos.layout import STAMP_NAME

# An extra rpc changes the descriptor and the service stubs; the message type stubs (.pyi) stay as they were.
CRI_STUBS = ("cri/v1/api_pb2.py", "cri/v1/api_pb2_grpc.py")


def pinned_origin(result: Result, name: str) -> Path:
    return next(i.origin for i in result.inputs if i.source.name == name)


def with_extra_rpc(cold: Result, tmp_path: Path) -> Path:
    """The pinned CRI api.proto plus ``rpc LabPing(VersionRequest) returns (VersionResponse)``."""
    text = pinned_origin(cold, "cri-v1").read_text()
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
    cold: Result, copy_of_cold: Path, tmp_path: Path, inspect_stubs: Callable[[Path], dict[str, Any]]
) -> None:
    edited = with_extra_rpc(cold, tmp_path)
    changed = generate(copy_of_cold, {"cri-v1": edited})
    assert not changed.cached and changed.key != cold.key
    assert changed.written == CRI_STUBS
    assert next(i for i in changed.inputs if i.source.name == "cri-v1").overridden

    services = inspect_stubs(copy_of_cold)["services"]
    assert "/runtime.v1.RuntimeService/LabPing" in services["runtime.v1.RuntimeService"]
    assert "/runtime.v1.RuntimeService/RunPodSandbox" in services["runtime.v1.RuntimeService"]

    assert generate(copy_of_cold, {"cri-v1": edited}).cached
    back = generate(copy_of_cold)
    assert not back.cached and back.key == cold.key and back.written == CRI_STUBS


def test_malformed_override_names_the_file(copy_of_cold: Path, tmp_path: Path) -> None:
    bad = tmp_path / "broken.proto"
    bad.write_text('syntax = "proto3";\npackage csi.v1;\nservice Identity {\n  rpc GetPluginInfo(NoSuchMessage)\n')
    stamp_before = (copy_of_cold / STAMP_NAME).read_text()
    with pytest.raises(ProtosError) as caught:
        generate(copy_of_cold, {"csi-v1": bad})
    message = str(caught.value)
    assert f"protoc rejected {bad}" in message and "csi-v1, override" in message
    assert f"{bad}:" in message, "protoc's own lines must point at the real file, not the staged copy"
    assert "kubelab_protos/gen/csi" not in message
    assert (copy_of_cold / STAMP_NAME).read_text() == stamp_before, "a failed run must leave the stubs alone"


def test_override_must_keep_the_proto_package(cold: Result, tmp_path: Path) -> None:
    renamed = tmp_path / "renamed.proto"
    renamed.write_text(pinned_origin(cold, "dra-v1").read_text().replace("package k8s.io.kubelet", "package example"))
    with pytest.raises(ProtosError, match=r"renamed\.proto \(dra-v1\) declares package example\.pkg\.apis\.dra\.v1"):
        generate(tmp_path / "gen", {"dra-v1": renamed})


def test_unknown_or_missing_override(tmp_path: Path) -> None:
    with pytest.raises(ProtosError, match=r"(?s)unknown proto source.*nope.*override one of: cri-v1"):
        generate(tmp_path / "gen", {"nope": tmp_path / "x.proto"})
    with pytest.raises(ProtosError, match=r"cannot read the override for csi-v1 at .*missing\.proto"):
        generate(tmp_path / "gen", {"csi-v1": tmp_path / "missing.proto"})


def test_stamp_is_json_with_the_override(copy_of_cold: Path, cold: Result, tmp_path: Path) -> None:
    edited = with_extra_rpc(cold, tmp_path)
    generate(copy_of_cold, {"cri-v1": edited})
    stamp = json.loads((copy_of_cold / STAMP_NAME).read_text())
    assert stamp["inputs"]["cri-v1"]["origin"] == str(edited.resolve())
    assert stamp["inputs"]["cri-v1"]["overridden"] is True
    assert stamp["inputs"]["csi-v1"]["overridden"] is False
