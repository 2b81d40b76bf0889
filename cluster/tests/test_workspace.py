from pathlib import Path

import pytest

from kubelab_cluster.pins import repo_root
from kubelab_cluster.workspace import component_dir, members


def test_members_expand_the_globs_of_pyproject() -> None:
    found = members()
    root = repo_root()
    assert found[0] == root / "cluster" and root / "labs" / "labkit" in found
    assert root / "components" / "csi" in found and root / "kubelet-plugins" / "deviceplugin" in found
    assert all((m / "pyproject.toml").is_file() for m in found)


def test_component_dir_finds_a_member_under_either_root() -> None:
    assert component_dir("csi") == repo_root() / "components" / "csi"
    assert component_dir("deviceplugin") == repo_root() / "kubelet-plugins" / "deviceplugin"
    with pytest.raises(KeyError, match="no workspace member called 'nope'"):
        component_dir("nope")


def test_a_folder_without_pyproject_is_no_member(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.uv.workspace]\nmembers = ["a/*"]\n')
    (tmp_path / "a" / "x").mkdir(parents=True)
    (tmp_path / "a" / "y").mkdir()
    (tmp_path / "a" / "y" / "pyproject.toml").write_text("")
    assert members(tmp_path) == [tmp_path / "a" / "y"]
