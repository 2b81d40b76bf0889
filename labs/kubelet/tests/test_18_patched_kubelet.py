"""Checkpoint 18 (patching the kubelet): the kubelet built from patched source runs on one worker and
says so."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.nodes import node_run

from .conftest import PatchedNode
from .kubeletlab import CONDITION, KUBELET, node_status, patched_version


def test_18_version_with_the_lab_suffix(kubectl: Kubectl, patched_kubelet: PatchedNode) -> None:
    """`kubelet --version` on the swapped worker prints the pin with the patch's suffix
    (`Kubernetes v1.37.2-kubelab-ratio`), the node reports it, and with no kubelab.json the node is as
    an unpatched kubelet leaves it: the capacity cAdvisor reports and no KubelabHealthy condition.

    Hint (Chapter 9, patching the kubelet; 1.1 version stamping): the suffix is patch.toml's
    `version_suffix`; `kubectl get node -o wide` shows each kubelet's version.
    """
    node = patched_kubelet.name
    assert node_run(node, KUBELET, "--version").strip() == f"Kubernetes {patched_version()}"
    status = node_status(kubectl, node)
    assert status["nodeInfo"]["kubeletVersion"] == patched_version()
    assert (status["capacity"]["cpu"], status["capacity"]["memory"]) == (
        patched_kubelet.capacity["cpu"], patched_kubelet.capacity["memory"],
    )  # fmt: skip
    assert CONDITION not in {c["type"] for c in status["conditions"]}
