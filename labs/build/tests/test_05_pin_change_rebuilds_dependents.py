"""Checkpoint 5 (book 1.3): changing one pin rebuilds exactly what depends on it.

``kubelab-toolchain plan`` names the artifacts a build would make now. We point it
at edited copies of the pin file (``KUBELAB_PINS``) and compare.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kubelab_cluster.pins import pin_file
from kubelab_cluster.toolchain.artifacts import BY_NAME

from .conftest import ToolchainCLI

KUBE = {"kubelet", "kubeadm", "kubectl", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy"}
KUBE |= {"e2e.test", "agnhost"}  # the e2e suite and its test image's binary, from the same module (Chapter 6)
KUBE |= {"kube-apiserver-kubelab"}  # kube-apiserver built from patched k8s.io/kubernetes source (Chapter 7.3)
KUBE |= {"kubelet-kubelab"}  # the kubelet built from patched source (Chapter 9)


def edited_pins(tmp_path: Path, key: str, value: str) -> Path:
    text = pin_file().read_text()
    new, count = re.subn(rf'(?m)^({re.escape(key)}\s*=\s*)"[^"]*"', rf'\g<1>"{value}"', text)
    assert count == 1, key
    out = tmp_path / "versions.toml"
    out.write_text(new)
    return out


def plan(toolchain_cli: ToolchainCLI, pins: Path | None = None) -> set[str]:
    proc = toolchain_cli("plan", env={"KUBELAB_PINS": str(pins)} if pins else None)
    assert proc.returncode == 0, proc.stderr
    return set(proc.stdout.split())


def test_nothing_to_build_with_current_pins(toolchain_cli: ToolchainCLI) -> None:
    """With the committed pins everything is built: ``plan`` names nothing.

    Hint (1.1, 1.3): `uv run kubelab-toolchain plan` lists what is missing (cmd_plan in
    cluster/kubelab_cluster/toolchain/cli.py); run `uv run nox -s toolchain` to build it.
    """
    assert plan(toolchain_cli) == set(), "run `nox -s toolchain` first"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("cni", "v1.3.0", {"cnitool"}),
        ("runc", "v1.5.1", {"runc"}),
        ("cri-tools", "v1.34.0", {"crictl", "critest"}),
        ("version", "v1.37.1", KUBE),
        ("staging", "v0.37.1", KUBE),
    ],
)
def test_one_pin_rebuilds_its_dependents(
    toolchain_cli: ToolchainCLI, tmp_path: Path, key: str, value: str, expected: set[str]
) -> None:
    """One edited pin plans exactly the artifacts that read it.

    Hint (1.1, 1.3): artifact_key in cluster/kubelab_cluster/toolchain/build.py hashes the artifact's own pin
    and workspace_key (toolchain/gomodule.py) the pins of the modules its workspace requires; which pin an
    artifact reads is its recipe in toolchain/artifacts.py. Try `KUBELAB_PINS=/tmp/versions.toml uv run
    kubelab-toolchain plan` with an edited copy of cluster/versions.toml.
    """
    assert plan(toolchain_cli, edited_pins(tmp_path, key, value)) == expected


def test_go_pin_rebuilds_everything(toolchain_cli: ToolchainCLI, tmp_path: Path) -> None:
    """A new ``tools.go`` pin plans every artifact.

    Hint (1.1, 1.3): pins.tools.go is part of artifact_key in cluster/kubelab_cluster/toolchain/build.py; an
    artifact missing from `KUBELAB_PINS=/tmp/versions.toml uv run kubelab-toolchain plan` leaves it out.
    """
    assert plan(toolchain_cli, edited_pins(tmp_path, "go", "1.26.7")) == set(BY_NAME)
