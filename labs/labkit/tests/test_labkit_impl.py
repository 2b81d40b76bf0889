"""``--impl``: each kind is checked once, with a message saying what PATH should be."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

from kubelab_labkit.impl import ImplError, Submission, activate, resolve
from kubelab_labkit.registry import Impl, ImplKind, Lab, Status


def lab(kind: ImplKind | None, package: str | None = None) -> Lab:
    impl = Impl(kind=kind, what="the thing", package=package) if kind else None
    return Lab(name="x", chapter=3, title="t", sections=[], status=Status.DONE, impl=impl, components=["components/x"])


def test_a_lab_without_impl_refuses_it() -> None:
    with pytest.raises(ImplError, match=r"lab-x takes no --impl: its checkpoints grade components/x.*never silently"):
        resolve(lab(None), "anything")


def test_python_package(tmp_path: Path) -> None:
    with pytest.raises(ImplError, match=r"no mypkg package in .*the thing"):
        resolve(lab(ImplKind.PYTHON_PACKAGE, "mypkg"), str(tmp_path))
    (tmp_path / "mypkg").mkdir()
    (tmp_path / "mypkg" / "__init__.py").write_text("WHO = 'student'\n")
    for given in (tmp_path, tmp_path / "mypkg"):
        sub = resolve(lab(ImplKind.PYTHON_PACKAGE, "mypkg"), str(given))
        assert sub.path == tmp_path.resolve()
    assert sub.env({"PYTHONPATH": "/x"})["PYTHONPATH"] == f"{tmp_path.resolve()}{os.pathsep}/x"
    try:
        assert activate(sub) == (tmp_path / "mypkg").resolve()
        assert sys.modules["mypkg"].WHO == "student"
    finally:
        sys.path.remove(str(tmp_path.resolve()))
        sys.modules.pop("mypkg", None)


def test_exec_plugin(tmp_path: Path) -> None:
    plugin = tmp_path / "plugin"
    plugin.write_text("#!/bin/sh\n")
    with pytest.raises(ImplError, match="not executable"):
        resolve(lab(ImplKind.EXEC_PLUGIN), str(plugin))
    plugin.chmod(0o755)
    assert resolve(lab(ImplKind.EXEC_PLUGIN), str(plugin)).path == plugin.resolve()
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    with pytest.raises(ImplError, match=r"__main__\.py"):
        resolve(lab(ImplKind.EXEC_PLUGIN), str(pkg))
    with pytest.raises(ImplError, match="no such file"):
        resolve(lab(ImplKind.EXEC_PLUGIN), str(tmp_path / "missing"))


def test_grpc_endpoint(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    path.write_text("")
    with pytest.raises(ImplError, match="not a unix socket"):
        resolve(lab(ImplKind.GRPC_ENDPOINT), str(path))
    path.unlink()
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        sub = resolve(lab(ImplKind.GRPC_ENDPOINT), f"unix://{path}")
    assert sub == Submission(ImplKind.GRPC_ENDPOINT, f"unix://{path}", path.resolve())
