"""The generator and the stubs package: where the stubs go, the one marker they share, and no import between them."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

import kubelab_cluster
from kubelab_cluster.pins import repo_root
from kubelab_cluster.protos import install as install_module
from kubelab_cluster.protos.errors import ProtosError
from kubelab_cluster.protos.generate import default_out_root, generate
from kubelab_cluster.protos.sources import GEN_PACKAGE
from kubelab_cluster.protos.stamp import STAMP_NAME
from kubelab_kit.errors import KubelabError

COMPONENTS = {"kubelab_protos", "kubelab_client", "kubelab_cni"}  # kubelab_kit is the one allowed


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_default_output_is_the_stubs_package_gen_folder() -> None:
    out = default_out_root()
    assert out == repo_root() / "components" / "protos" / "kubelab_protos" / "gen"
    assert (out.parent / "__init__.py").is_file(), "the stubs package sits right above gen/"
    assert GEN_PACKAGE.split(".") == [out.parent.name, out.name]


def test_cluster_package_imports_no_component() -> None:
    package = Path(kubelab_cluster.__file__).parent
    offending = {
        str(path.relative_to(package)): sorted(imported_roots(path) & COMPONENTS) for path in package.rglob("*.py")
    }
    assert {name: found for name, found in offending.items() if found} == {}


def test_stubs_load_without_the_stubs_package(protos_report: dict[str, Any]) -> None:
    """The generated modules import each other as kubelab_protos.gen.*; the stubs package itself is never needed."""
    assert protos_report["loaded"], "the report imported stubs"
    assert "kubelab_protos" not in protos_report["loaded"]
    assert all(name.startswith(f"{GEN_PACKAGE}") for name in protos_report["loaded"])


def test_interrupted_first_generation_leaves_no_marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stubs package calls a folder generated when gen/__init__.py exists: it must be written last."""
    real = install_module.atomic_write
    calls: list[Path] = []

    def crash_late(path: Path, data: str | bytes, *, mode: int | None = None) -> bool:
        calls.append(path)
        if path.name == "__init__.py" and path.parent == out:
            raise OSError("disk full")
        return real(path, data, mode=mode)

    out = tmp_path / "gen"
    monkeypatch.setattr(install_module, "atomic_write", crash_late)
    with pytest.raises(OSError, match="disk full"):
        generate(out)
    assert calls[-1] == out / "__init__.py" and len(calls) > 1, "the package marker comes after every other file"
    assert not (out / "__init__.py").exists() and not (out / STAMP_NAME).exists()
    assert (out / "cri" / "v1" / "api_pb2.py").is_file()

    monkeypatch.setattr(install_module, "atomic_write", real)
    again = generate(out)
    assert not again.cached and (out / "__init__.py").is_file() and (out / STAMP_NAME).is_file()


def test_protos_error_is_a_kubelab_error() -> None:
    error = ProtosError("protoc rejected x.proto", fix="correct it", output="x.proto:3:1: Expected identifier.\n")
    assert isinstance(error, KubelabError) and error.area == "protos"
    assert str(error).splitlines() == [
        "protos: protoc rejected x.proto",
        "  output (last lines):",
        "    x.proto:3:1: Expected identifier.",
        "  fix: correct it",
    ]


def test_lab_image_generates_the_stubs_in_process_before_its_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lab image ships the stubs package's wheel: generate first (a function call, no subprocess), then hash."""
    from kubelab_cluster.images import lab

    order: list[str] = []

    class Cached:
        cached = True

    def no_subprocess(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"unexpected subprocess {args}")

    def fake_generate() -> Cached:
        order.append("generate")
        return Cached()

    def fake_key() -> str:
        order.append("key")
        return "k"

    monkeypatch.setattr(lab.subprocess, "run", no_subprocess)
    monkeypatch.setattr(lab, "generate_protos", fake_generate)
    monkeypatch.setattr(lab, "lab_key", fake_key)
    monkeypatch.setattr(lab.docker, "image_exists", lambda ref: True)
    assert lab.build_lab_image() == f"{lab.REPO}:k"
    assert order == ["generate", "key"]
