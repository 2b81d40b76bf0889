"""The lab registry: every committed lab.toml loads, and bad ones are refused with the file named."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelab_cluster.pins import repo_root
from kubelab_labkit.registry import ImplKind, Status, lab_of_path, load_labs


def test_committed_labs_load_in_chapter_order() -> None:
    labs = load_labs()
    assert [lab.chapter for lab in labs] == sorted(lab.chapter for lab in labs)
    by_name = {lab.name: lab for lab in labs}
    assert {"smoke", "build", "client", "cni"} <= {lab.name for lab in labs if lab.runnable}
    assert by_name["smoke"].status is Status.DONE  # agrees with the README table, which is generated
    assert by_name["client"].impl is not None and by_name["client"].impl.kind is ImplKind.PYTHON_PACKAGE
    assert by_name["build"].impl is None and by_name["smoke"].impl is None
    for lab in labs:
        assert lab.guide is None or (repo_root() / lab.guide).is_file(), lab.guide
        for folder in lab.components:
            assert (repo_root() / folder).is_dir(), folder
        if lab.status is Status.PLANNED:
            assert lab.issue and not lab.runnable, lab.name


def _write(root: Path, name: str, text: str) -> None:
    (root / "labs" / name).mkdir(parents=True)
    (root / "labs" / name / "lab.toml").write_text(text)


def test_unknown_key_and_missing_package_are_errors(tmp_path: Path) -> None:
    _write(tmp_path, "x", 'chapter = 3\ntitle = "t"\nsections = []\nstatus = "done"\ncluster = true\n')
    with pytest.raises(ValueError, match=r"(?s)labs/x/lab.toml.*cluster.*Extra inputs"):
        load_labs(tmp_path)
    (tmp_path / "labs" / "x" / "lab.toml").write_text(
        'chapter = 3\ntitle = "t"\nsections = []\nstatus = "done"\n[impl]\nkind = "python-package"\nwhat = "w"\n'
    )
    with pytest.raises(ValueError, match="needs package"):
        load_labs(tmp_path)


def test_lab_of_path() -> None:
    lab = lab_of_path(repo_root() / "labs" / "cni" / "tests" / "test_01_agent.py")
    assert lab is not None and lab.name == "cni"
    assert lab_of_path(repo_root() / "cluster") is None
