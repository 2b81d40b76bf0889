"""Source patches: edits land at their anchors, an anchor that matches nothing fails naming it, and
the lab's kube-apiserver patch applies to the pinned k8s.io/kubernetes source."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.patches import PatchError, SourcePatch, apply_edit

GO = 'package x\n\nimport (\n\t"fmt"\n)\n\nvar Ordered = []string{\n\ta.Name,\n\tb.Name,\n}\n'


def test_after_and_before_insert_at_the_first_match() -> None:
    out = apply_edit(GO, {"path": "x.go", "after": r"^import \($", "insert": '\tnew "n"'}, "t")
    assert '\nimport (\n\tnew "n"\n\t"fmt"\n' in out
    out = apply_edit(GO, {"path": "x.go", "before": r"^\s*\w\.Name,", "insert": "\tours.Name,"}, "t")
    assert "{\n\tours.Name,\n\ta.Name,\n\tb.Name," in out


def test_an_anchor_that_matches_nothing_fails_naming_the_edit() -> None:
    with pytest.raises(PatchError, match=r"edit 3: no line of x.go matches 'gone'"):
        apply_edit(GO, {"path": "x.go", "after": "gone", "insert": "x"}, "patch.toml: edit 3")
    with pytest.raises(PatchError, match="exactly one of"):
        apply_edit(GO, {"path": "x.go", "insert": "x"}, "t")


def test_a_patch_folder_copies_adds_and_edits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo, module = tmp_path / "repo", tmp_path / "module"
    (repo / "p").mkdir(parents=True)
    (repo / "p" / "new.go").write_text("package n\n")
    (repo / "p" / "patch.toml").write_text(
        'module = "example.com/m"\nversion_suffix = "-lab"\n'
        '[[add]]\npath = "n/new.go"\nfrom = "new.go"\n'
        '[[edit]]\npath = "x.go"\nafter = "^import \\\\($"\ninsert = "\\tn \\"example.com/m/n\\""\n'
    )
    (module / "sub").mkdir(parents=True)
    (module / "x.go").write_text(GO)
    (module / "x.go").chmod(0o444)  # the module cache's files are read-only
    monkeypatch.setenv("KUBELAB_ROOT", str(repo))
    patch = SourcePatch("p")
    assert (patch.module, patch.version_suffix) == ("example.com/m", "-lab")
    key = patch.key()
    patch.apply(module, tmp_path / "out")
    assert (tmp_path / "out" / "n" / "new.go").read_text() == "package n\n"
    assert 'import (\n\tn "example.com/m/n"\n' in (tmp_path / "out" / "x.go").read_text()
    assert (module / "x.go").read_text() == GO, "the source is not touched"
    (repo / "p" / "new.go").write_text("package n // changed\n")
    assert patch.key() != key, "a changed file of the patch changes its key"


def test_the_patched_kube_apiserver_is_its_own_artifact() -> None:
    a = BY_NAME["kube-apiserver-kubelab"]
    assert a.version_suffix == "-kubelab"
    assert a.binaries == {"kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver"}
    assert a.workspace.patches and a.workspace.patches[0].module == "k8s.io/kubernetes"
    assert "patches" not in BY_NAME["kube-apiserver"].recipe()["workspace"]  # type: ignore[operator]


def test_the_patched_kubelet_is_its_own_artifact() -> None:
    a = BY_NAME["kubelet-kubelab"]
    assert a.version_suffix == "-kubelab-ratio"
    assert a.binaries == {"kubelet": "k8s.io/kubernetes/cmd/kubelet"}
    (patch,) = a.workspace.patches
    assert patch.folder == "kubelet-plugins/kubelet-patch" and patch.module == "k8s.io/kubernetes"
    assert a.workspace is not BY_NAME["kubelet"].workspace  # the node image's kubelet stays upstream's
