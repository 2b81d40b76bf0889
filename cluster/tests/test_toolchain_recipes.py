from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from kubelab_cluster.pins import load_pins, pin_file
from kubelab_cluster.toolchain.artifacts import ARTIFACTS, BY_NAME, KUBERNETES, tools_of
from kubelab_cluster.toolchain.build import Override, artifact_dir, artifact_key, go_build_args
from kubelab_cluster.toolchain.errors import ToolchainError
from kubelab_cluster.toolchain.gomodule import render_go_mod
from kubelab_cluster.toolchain.gotool import diagnose
from kubelab_cluster.toolchain.stamping import Stamp, commit_from_sum, kube_ldflags

STAMP = Stamp(version="v1.37.2", commit="a" * 40, tree_state="clean", build_date="2026-10-27T12:01:04Z")


def test_kube_ldflags_cover_both_version_packages() -> None:
    flags = kube_ldflags(STAMP)
    assert len(flags) == 12
    for pkg in ("k8s.io/client-go/pkg/version", "k8s.io/component-base/version"):
        assert f"-X {pkg}.gitVersion=v1.37.2" in flags
        assert f"-X {pkg}.gitMajor=1" in flags
        assert f"-X {pkg}.gitMinor=37" in flags
        assert f"-X {pkg}.gitTreeState=clean" in flags
        assert f"-X {pkg}.buildDate=2026-10-27T12:01:04Z" in flags


def test_non_semantic_version_is_refused() -> None:
    with pytest.raises(ValueError, match="semantic"):
        kube_ldflags(Stamp("banana", "a" * 40, "clean", "x"))


def test_commit_from_sum_is_hex_of_the_h1_hash() -> None:
    digest = hashlib.sha256(b"x").digest()
    h1 = "h1:" + base64.b64encode(digest).decode()
    assert commit_from_sum(h1) == digest.hex()[:40]
    with pytest.raises(ValueError):
        commit_from_sum("sha1:zzz")


def test_go_build_args_for_static_cgo_and_test_binaries() -> None:
    runc = go_build_args(BY_NAME["runc"], STAMP, "github.com/opencontainers/runc", Path("/o/runc"))
    assert runc[0] == "build" and "-trimpath" in runc
    assert "-extldflags=-static" in runc[runc.index("-ldflags") + 1]
    assert runc[runc.index("-tags") + 1].split(",")[0] == "seccomp"
    critest = go_build_args(BY_NAME["critest"], STAMP, "sigs.k8s.io/cri-tools/cmd/critest", Path("/o/critest"))
    assert critest[:2] == ["test", "-c"]


def test_render_go_mod_maps_replaces_to_published_versions() -> None:
    text = render_go_mod(
        KUBERNETES,
        {"k8s.io/kubernetes": "v1.37.2"},
        {"k8s.io/api": "v0.37.2"},
        "1.26.0",
        ["default=go1.26"],
        ["k8s.io/kubernetes/cmd/kubelet"],
    )
    assert "require (\n\tk8s.io/kubernetes v1.37.2\n)" in text
    assert "\tk8s.io/api => k8s.io/api v0.37.2" in text
    assert "godebug default=go1.26" in text
    assert "tool (\n\tk8s.io/kubernetes/cmd/kubelet\n)" in text


def test_kubernetes_workspace_keeps_every_kube_binary() -> None:
    tools = tools_of(KUBERNETES)
    assert "k8s.io/kubernetes/cmd/kube-apiserver" in tools and len(tools) == 7


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    text = pin_file().read_text()
    assert old in text
    out = tmp_path / "versions.toml"
    out.write_text(text.replace(old, new))
    return out


def test_a_pin_change_only_moves_dependent_keys(tmp_path: Path) -> None:
    base = load_pins()
    changed = load_pins(_edited(tmp_path, f'runc = "{base.components.runc}"', 'runc = "v0.0.1"'))
    moved = {a.name for a in ARTIFACTS if artifact_key(a, base) != artifact_key(a, changed)}
    assert moved == {"runc"}


def test_overrides_get_their_own_cache_directory() -> None:
    pins = load_pins()
    kubelet = BY_NAME["kubelet"]
    plain = artifact_dir(kubelet, pins)
    custom = artifact_dir(kubelet, pins, Override(git_version="v1.37.2-x"))
    assert plain != custom and custom.name.startswith("v1.37.2-x-")


def test_error_message_names_artifact_command_and_fix() -> None:
    err = ToolchainError("kubelet", "boom", "do this", ["go", "build", "x"], "line1\nline2", "/tmp/log")
    text = str(err)
    assert "'kubelet'" in text and "command: go build x" in text and "fix: do this" in text and "line2" in text


@pytest.mark.parametrize(
    ("output", "needle"),
    [
        ("dial tcp: lookup proxy: no such host", "unreachable"),
        ("go: example.com/x@v9: invalid version: unknown revision v9", "not served"),
        ("fatal error: seccomp.h: No such file", "libseccomp-dev"),
    ],
)
def test_diagnose(output: str, needle: str) -> None:
    assert needle in diagnose(output, "1.26.8")


def test_go_runner_creates_a_missing_working_directory(tmp_path: Path) -> None:
    """On a fresh machine the cache root does not exist yet; running go there must work."""
    import shutil

    from kubelab_cluster.toolchain.gotool import GoRunner

    if not shutil.which("go"):
        pytest.skip("go not installed")
    where = tmp_path / "fresh" / "cache"
    out = GoRunner("test", load_pins().tools.go).run(["env", "GOVERSION"], cwd=where)
    assert where.is_dir() and out.startswith("go")


def test_prune_keeps_current_builds_and_finds_the_rest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kubelab_cluster.toolchain.build import artifact_dir, stale_entries

    monkeypatch.setenv("KUBELAB_CACHE", str(tmp_path))
    pins = load_pins()
    current = artifact_dir(BY_NAME["runc"], pins)
    current.mkdir(parents=True)
    old = current.parent / "v0.0.1-000000000000"
    old.mkdir()
    custom = artifact_dir(BY_NAME["kubelet"], pins, Override(git_version="v1.37.2-x"))
    custom.mkdir(parents=True)
    stale = stale_entries(pins)
    assert old in stale and custom in stale and current not in stale


def test_the_lab_image_leaves_out_the_docs_tooling_and_the_dashboard() -> None:
    from kubelab_cluster.pins import repo_root
    from kubelab_cluster.workspace import in_lab_image, members, project_name

    left_out = [project_name(m) for m in members(repo_root()) if not in_lab_image(m)]
    assert sorted(left_out) == ["kubelab-dashboard", "kubelab-docs"]  # [tool.kubelab] lab-image = false
    assert "kubelab-cni" in [project_name(m) for m in members(repo_root()) if in_lab_image(m)]
