"""Checkpoint 2 (book 1.1/1.3): build a kubelet with your own version string.

Upstream sets ``KUBE_GIT_VERSION`` before ``make WHAT=cmd/kubelet``; here it is
``kubelab-toolchain build kubelet --git-version ...``. Only the link step reruns:
every package is already in Go's build cache.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from kubelab_cluster.pins import Pins

from .conftest import ToolchainCLI
from .test_01_stamped_versions import parse_raw_version


def test_custom_kubelet_version(pinned: Pins, toolchain_cli: ToolchainCLI) -> None:
    """``--git-version`` and ``--git-tree-state`` land in the kubelet's stamp; the pinned kubelet stays.

    Hint (1.1, 1.3): the Override in cluster/kubelab_cluster/toolchain/build.py (version_of, stamp_for) and
    cmd_build in toolchain/cli.py; the custom build's folder (artifact_dir: version plus content key) must
    differ from the pinned one: compare `uv run kubelab-toolchain path kubelet` with the folder the build
    printed, and the "stamp" in each build.json.
    """
    custom = f"{pinned.kubernetes.version}-kubelab.1"
    proc = toolchain_cli("build", "kubelet", "--git-version", custom, "--git-tree-state", "dirty")
    assert proc.returncode == 0, proc.stderr
    directory = Path(proc.stdout.strip().splitlines()[-1])
    kubelet = directory / "kubelet"
    out = subprocess.run([kubelet, "--version"], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"Kubernetes {custom}"
    raw = subprocess.run([kubelet, "--version=raw"], capture_output=True, text=True, check=True).stdout
    fields = parse_raw_version(raw)
    assert fields["GitVersion"] == custom
    assert fields["GitTreeState"] == "dirty"

    # The pinned kubelet is untouched: custom builds live beside it in the cache.
    pinned_path = toolchain_cli("path", "kubelet").stdout.strip()
    assert Path(pinned_path).parent != directory
    stock = subprocess.run([pinned_path, "--version"], capture_output=True, text=True, check=True).stdout
    assert stock.strip() == f"Kubernetes {pinned.kubernetes.version}"
