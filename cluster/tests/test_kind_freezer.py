"""Thawing frozen cgroups under the node containers, on a tree shaped like cgroup v1's freezer."""

from __future__ import annotations

from pathlib import Path

from kubelab_cluster.kind.freezer import thaw


def state(root: Path, rel: str, value: str) -> Path:
    path = root / rel / "freezer.state"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value)
    return path


def test_only_our_containers_frozen_cgroups_are_thawed(tmp_path: Path) -> None:
    ours = state(tmp_path, "docker/abc123/kubelet.slice/pod.slice/cri-containerd-1.scope", "FROZEN")
    ours_fine = state(tmp_path, "docker/abc123/kubelet.slice", "THAWED")
    other = state(tmp_path, "docker/zzz999/x.scope", "FROZEN")
    assert thaw(["abc123"], tmp_path) == 1
    assert ours.read_text() == "THAWED" and ours_fine.read_text() == "THAWED"
    assert other.read_text() == "FROZEN", "another container's cgroups are not ours to touch"


def test_nothing_to_do_without_a_freezer_hierarchy(tmp_path: Path) -> None:
    assert thaw(["abc123"], tmp_path / "absent") == 0
    assert thaw([], tmp_path) == 0
