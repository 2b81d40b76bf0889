"""The CRI lab's setup: kubelab-cri (the reference, or your package with --impl) installed on
the swappable worker as a systemd service and that node's kubelet moved onto it; a namespace
for the checkpoints' pods; the busybox test image in the cluster's registry.

At the end, whatever happened, the node goes back to containerd and the service is stopped,
so every other lab finds the cluster as it was (checkpoint 9 does it first, and checks it).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kubelab_cluster.images.busybox import build_busybox_image
from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_cluster.kind.registry import ensure_registry, push
from kubelab_labkit.impl import Submission
from kubelab_labkit.namespaces import MakeNamespace
from kubelab_labkit.nodes import swappable

from .crilab import (
    CONTAINERD,
    OURS,
    current_endpoint,
    install_impl,
    install_site,
    mirror_node_images,
    start_runtime,
    stop_runtime,
    use_runtime,
)

NS = "kubelab-cri-lab"


@pytest.fixture(scope="session")
def cri_node(
    kubectl: Kubectl, lab_image: str, impl: Submission | None, node_containers: list[str], external_cluster: bool
) -> Iterator[str]:
    """The swappable worker runs its pods on kubelab-cri and is Ready.

    Hint (4.1): `docker exec NODE journalctl -u kubelab-cri -n 50` (the runtime's log: every CRI call)
    and `docker exec NODE journalctl -u kubelet -n 50 | grep -i runtime`; the kubelet calls Version,
    Status (RuntimeReady and NetworkReady), RuntimeConfig and ImageFsInfo before the node is Ready.
    """
    if external_cluster:
        pytest.exit(
            "the CRI lab swaps a kind node's runtime with `docker exec`: it runs on the kind cluster only", returncode=2
        )
    node = swappable(kubectl)
    try:
        install_site(node, lab_image)
        # the reference (no --impl) goes the same way as a student's package: first on the path
        install_impl(node, impl.path / impl.package if impl is not None and impl.path and impl.package else None)
        mirror_node_images(kubectl, node, node_containers)
        start_runtime(node)
        use_runtime(kubectl, node, OURS)
        yield node
    finally:
        kubectl.run("delete", "namespace", NS, "--ignore-not-found", "--timeout=120s", timeout=130, check=False)
        if current_endpoint(node) != CONTAINERD:
            use_runtime(kubectl, node, CONTAINERD)
        stop_runtime(node)


@pytest.fixture(scope="session")
def busybox(node_containers: list[str]) -> str:
    """The busybox test image (Debian's busybox-static, built here) in the cluster's registry.

    Hint: `uv run python -c 'from kubelab_cluster.images.busybox import build_busybox_image as b; print(b())'`;
    `curl -s localhost:5001/v2/kubelab/busybox/tags/list`.
    """
    ensure_registry(node_containers)
    return push(build_busybox_image())


@pytest.fixture(scope="session")
def namespace(make_namespace: MakeNamespace, cri_node: str) -> str:
    return make_namespace(NS)
