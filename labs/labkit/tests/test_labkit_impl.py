"""``--impl``: each kind is checked once, with a message saying what PATH should be."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

from kubelab_labkit.impl import ImplError, Submission, activate, reference, resolve
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


def test_the_reference_is_a_submission_on_the_same_path(tmp_path: Path) -> None:
    (tmp_path / "components" / "x" / "mypkg").mkdir(parents=True)
    (tmp_path / "components" / "x" / "mypkg" / "__init__.py").write_text("")
    impl = Impl(kind=ImplKind.PYTHON_PACKAGE, what="w", package="mypkg", reference="components/x")
    the_lab = Lab(name="x", chapter=3, title="t", sections=[], status=Status.DONE, impl=impl)
    ref = reference(the_lab, tmp_path)
    assert ref is not None and ref.reference and ref.path == (tmp_path / "components" / "x").resolve()
    assert reference(lab(ImplKind.PYTHON_PACKAGE, "mypkg"), tmp_path) is None  # no reference named
    with pytest.raises(ImplError, match="lab x: its \\[impl\\] reference 'components/x' is unusable"):
        reference(the_lab, tmp_path / "elsewhere")


def test_the_key_follows_the_package_content(tmp_path: Path) -> None:
    (tmp_path / "mypkg" / "__pycache__").mkdir(parents=True)
    (tmp_path / "mypkg" / "__init__.py").write_text("A = 1\n")
    sub = resolve(lab(ImplKind.PYTHON_PACKAGE, "mypkg"), str(tmp_path))
    first = sub.key
    (tmp_path / "mypkg" / "__pycache__" / "x.pyc").write_bytes(b"noise")
    assert sub.key == first  # bytecode is not content
    (tmp_path / "mypkg" / "__init__.py").write_text("A = 2\n")
    assert sub.key != first


def test_more_packages_come_from_the_same_path(tmp_path: Path) -> None:
    impl = Impl(kind=ImplKind.PYTHON_PACKAGE, what="w", package="mypkg", also=["other"], reference="ref")
    the_lab = Lab(name="x", chapter=9, title="t", sections=[], status=Status.DONE, impl=impl)
    for pkg in ("ref/mypkg", "student/mypkg", "student/other"):
        (tmp_path / pkg).mkdir(parents=True)
        (tmp_path / pkg / "__init__.py").write_text("")
    ref = reference(the_lab, tmp_path)
    assert ref is not None and ref.packages == ("mypkg",)  # the reference's other is the installed one
    student = resolve(the_lab, str(tmp_path / "student"))
    assert student.packages == ("mypkg", "other")
    first = student.key
    (tmp_path / "student" / "other" / "__init__.py").write_text("B = 1\n")
    assert student.key != first  # every package is content
    (tmp_path / "student" / "other" / "__init__.py").unlink()
    with pytest.raises(ImplError, match="no other package in"):
        resolve(the_lab, str(tmp_path / "student"))
