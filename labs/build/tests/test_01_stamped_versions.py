"""Checkpoint 1 (book 1.1): every built binary reports the version it was stamped with.

Kubernetes binaries must carry the six keys of hack/lib/version.sh; the other
projects print their own version strings. Expected values come from the pin file
and from the Go module proxy's metadata, never from the build's own records.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from kubelab_cluster.pins import Pins
from kubelab_cluster.toolchain.artifacts import ARTIFACTS, BY_NAME
from kubelab_cluster.toolchain.gotool import GoRunner

KUBE_BINARIES = ["kubelet", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy"]


def run(binary: Path, *args: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run([str(binary), *args], capture_output=True, text=True, env=env, timeout=60, check=False)
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def kube_module(pinned: Pins) -> dict[str, str]:
    """What the proxy says about k8s.io/kubernetes at the pinned version."""
    info = GoRunner("lab-build", pinned.tools.go).module_info("k8s.io/kubernetes", pinned.kubernetes.version)
    with open(info["Info"]) as fh:
        published = json.load(fh)["Time"]
    return {"commit": base64.b64decode(info["Sum"][3:]).hex()[:40], "date": published}


def parse_raw_version(text: str) -> dict[str, str]:
    """Parse ``--version=raw`` output: version.Info{Major:"1", GitVersion:"v1.37.2", ...}."""
    return dict(re.findall(r'(\w+):"([^"]*)"', text))


def expect_kube(fields: dict[str, str], pinned: Pins, kube_module: dict[str, str]) -> None:
    version = pinned.kubernetes.version
    major, minor = version.lstrip("v").split(".")[:2]
    assert fields.get("gitVersion", fields.get("GitVersion")) == version
    lower = {k[0].lower() + k[1:]: v for k, v in fields.items()}
    assert lower["major"] == major and lower["minor"] == minor
    assert lower["gitCommit"] == kube_module["commit"]
    assert lower["gitTreeState"] == "clean"
    assert lower["buildDate"] == kube_module["date"]
    assert lower["goVersion"] == f"go{pinned.tools.go}"


@pytest.mark.parametrize("name", KUBE_BINARIES)
def test_kube_component_version(
    name: str, pinned: Pins, kube_module: dict[str, str], binary_path: Callable[[str, str | None], Path]
) -> None:
    """A Kubernetes binary prints the pin and the six keys of hack/lib/version.sh (``--version=raw``).

    Hint (1.1): the -X flags come from kube_ldflags in cluster/kubelab_cluster/toolchain/stamping.py, the
    values from stamp_for in toolchain/build.py (commit from the module's h1: sum, date from the proxy); the
    flags actually used are under "commands" in the build.json beside the binary that `uv run
    kubelab-toolchain path NAME` prints. Compare `$(uv run kubelab-toolchain path kubelet) --version=raw`.
    """
    binary = binary_path(name, None)
    assert run(binary, "--version").strip() == f"Kubernetes {pinned.kubernetes.version}"
    expect_kube(parse_raw_version(run(binary, "--version=raw")), pinned, kube_module)


@pytest.mark.parametrize(
    ("name", "args"), [("kubeadm", ("version", "-o", "json")), ("kubectl", ("version", "--client", "-o", "json"))]
)
def test_kube_client_version(
    name: str,
    args: tuple[str, ...],
    pinned: Pins,
    kube_module: dict[str, str],
    binary_path: Callable[[str, str | None], Path],
) -> None:
    """kubeadm and kubectl report the same stamp in their JSON ``clientVersion``.

    Hint (1.1): the same kube_ldflags (toolchain/stamping.py) stamp k8s.io/client-go/pkg/version, which these
    two read; run `$(uv run kubelab-toolchain path kubectl) version --client -o json` and compare with the
    "stamp" recorded in that artifact's build.json.
    """
    data = json.loads(run(binary_path(name, None), *args))
    expect_kube(data["clientVersion"], pinned, kube_module)


def other_expectations(p: Pins) -> dict[str, tuple[tuple[str, ...], str]]:
    """binary -> (argv, regex its output must match); versions come from the pins."""
    c = p.components
    bare = {k: v.lstrip("v") for k, v in c.model_dump().items()}
    return {
        "kind": (("version",), rf"kind {re.escape(c.kind)} go{re.escape(p.tools.go)} "),
        "crictl": (("--version",), rf"crictl version {re.escape(c.cri_tools)}"),
        "critest": (("-version",), rf"critest version: {re.escape(c.cri_tools)}"),
        "etcd": (("--version",), rf"etcd Version: {re.escape(bare['etcd'])}\nGit SHA: [0-9a-f]{{12}}"),
        "etcdctl": (("version",), rf"etcdctl version: {re.escape(bare['etcd'])}"),
        "coredns": (("-version",), rf"CoreDNS-{re.escape(bare['coredns'])}"),
        "containerd": (
            ("--version",),
            rf"containerd github.com/containerd/containerd/v2 {re.escape(c.containerd)} [0-9a-f]{{40}}",
        ),
        "ctr": (("--version",), rf"ctr github.com/containerd/containerd/v2 {re.escape(c.containerd)}"),
        "containerd-shim-runc-v2": (("-v",), rf"Version:\s+{re.escape(c.containerd)}"),
        "runc": (("--version",), rf"runc version {re.escape(bare['runc'])}\ncommit: [0-9a-f]{{12}}"),
        "csi-sanity": (("-version",), rf"Version = {re.escape(c.csi_test)}"),
        # the CSI sidecars print their path and main.version
        "csi-provisioner": (("--version",), rf"csi-provisioner {re.escape(c.external_provisioner)}$"),
        "csi-resizer": (("--version",), rf"csi-resizer {re.escape(c.external_resizer)}$"),
        "csi-snapshotter": (("--version",), rf"csi-snapshotter {re.escape(c.external_snapshotter)}$"),
        "snapshot-controller": (("--version",), rf"snapshot-controller {re.escape(c.external_snapshotter)}$"),
        "e2e.test": (("--version",), rf"^{re.escape(p.kubernetes.version)}$"),
        "agnhost": (("--version",), r"^app version "),  # agnhost's own version is not stamped
    }


PATCHED = [a.name for a in ARTIFACTS if a.workspace.patches]  # builds of patched source (kube-apiserver-kubelab)


def all_binaries() -> list[tuple[str, str]]:
    kube = {*KUBE_BINARIES, "kubeadm", "kubectl", *PATCHED}
    return [(a.name, b) for a in ARTIFACTS if a.name not in kube for b in a.binaries]


@pytest.mark.parametrize("artifact", PATCHED)
def test_patched_build_version(
    artifact: str, pinned: Pins, kube_module: dict[str, str], binary_path: Callable[[str, str | None], Path]
) -> None:
    """A build of patched source says so: the pin with the patch's suffix, gitTreeState dirty, the
    commit and date of the module it was patched from (book 1.1: KUBE_GIT_VERSION, a dirty tree).

    Hint (1.1): the suffix is SourcePatch.version_suffix (toolchain/patches.py, read by Artifact.version_suffix
    in toolchain/artifacts.py) and "dirty" comes from stamp_for in toolchain/build.py; the build.json beside
    `uv run kubelab-toolchain path kube-apiserver-kubelab` shows what the build was stamped with.
    """
    a = BY_NAME[artifact]
    (binary,) = a.binaries
    path = binary_path(artifact, binary)
    version = pinned.kubernetes.version + a.version_suffix
    assert a.version_suffix and run(path, "--version").strip() == f"Kubernetes {version}"
    raw = parse_raw_version(run(path, "--version=raw"))
    assert (raw["GitVersion"], raw["GitTreeState"]) == (version, "dirty"), raw
    assert (raw["GitCommit"], raw["BuildDate"]) == (kube_module["commit"], kube_module["date"]), raw


@pytest.mark.parametrize(("artifact", "binary"), all_binaries())
def test_tool_version(artifact: str, binary: str, pinned: Pins, binary_path: Callable[[str, str | None], Path]) -> None:
    """Every other binary prints its pinned version the way its own project's Makefile stamps it.

    Hint (1.1): the artifact's recipe in cluster/kubelab_cluster/toolchain/artifacts.py (its ldflags: x_flags
    with the project's own version symbols, e.g. _containerd_flags) and its pin in cluster/versions.toml; run
    the binary from `uv run kubelab-toolchain path ARTIFACT BINARY` with the arguments in other_expectations.
    """
    path = binary_path(artifact, binary)
    if artifact == "cni-plugins":
        # A CNI plugin answers the VERSION command with a JSON document (CNI spec, "Version").
        out = run(path, env={"CNI_COMMAND": "VERSION"})
        doc = json.loads(out)
        assert "1.1.0" in doc["supportedVersions"], doc
        about = run(path)
        assert pinned.components.cni_plugins in about, about
        return
    if artifact == "cnitool":
        # cnitool prints no version; it must at least run and show its usage.
        assert "cnitool" in run(path).lower()
        return
    args, pattern = other_expectations(pinned)[binary]
    out = run(path, *args)
    assert re.search(pattern, out), f"{binary} {' '.join(args)} printed:\n{out}\nexpected /{pattern}/"


def test_every_artifact_is_covered() -> None:
    """No artifact is left out of this checkpoint: each binary has a version check above.

    Hint (1.1): a binary added to ARTIFACTS in cluster/kubelab_cluster/toolchain/artifacts.py needs an entry in
    other_expectations (or KUBE_BINARIES) in this file; `uv run kubelab-toolchain list` shows every artifact.
    """
    covered = {b for _, b in all_binaries()} | set(KUBE_BINARIES) | {"kubeadm", "kubectl"}
    covered |= {b for name in PATCHED for b in BY_NAME[name].binaries}
    assert covered == {b for a in BY_NAME.values() for b in a.binaries}
