"""The CSI lab's setup: kubelab-csi (the reference, or your package with --impl) on every worker
with its sidecars (built here from their Go modules), the snapshot CRDs and controller, the
CSIDriver, a WaitForFirstConsumer StorageClass and a VolumeSnapshotClass; a namespace for the
checkpoints' claims and pods.

At the end the namespace goes (its claims, so their volumes), then the driver: other labs find
the cluster as it was, with each node's pool image kept for the next run.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kubelab_cluster.images.csi_sidecars import build_sidecars
from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_cluster.pins import pins
from kubelab_labkit import images
from kubelab_labkit.namespaces import MakeNamespace
from kubelab_labkit.nodes import workers as worker_names

from .csilab import deploy, uninstall

NS = "kubelab-csi-lab"


@pytest.fixture(scope="session")
def workers(kubectl: Kubectl) -> list[str]:
    return worker_names(kubectl)


@pytest.fixture(scope="session")
def sidecars(node_containers: list[str]) -> dict[str, str]:
    """external-provisioner, external-resizer, csi-snapshotter and the snapshot controller, each its
    toolchain binary on a scratch image, in the cluster's registry.

    Hint: `uv run kubelab-toolchain build csi-provisioner csi-resizer csi-snapshotter` builds them;
    `docker image ls 'kubelab/csi-*'`.
    """
    refs = build_sidecars(pins())
    return {name: images.deliver(ref, node_containers) if node_containers else ref for name, ref in refs.items()}


@pytest.fixture(scope="session")
def driver(kubectl: Kubectl, component_image: str, sidecars: dict[str, str], workers: list[str]) -> Iterator[str]:
    """kubelab-csi runs on every worker (the graded kubelab_csi: the lab image with it first on
    PYTHONPATH) and the snapshot controller is up.

    Hint (6.5): `kubectl -n kubelab-csi get pods -o wide`; `kubectl -n kubelab-csi logs ds/kubelab-csi-node -c driver`
    (every CSI call, one line each) and `-c csi-provisioner`; an exception at start names the module
    of yours that failed to import.
    """
    try:
        deploy(kubectl, component_image, sidecars)
        yield component_image
    finally:
        kubectl.run("delete", "namespace", NS, "--ignore-not-found", "--wait=true", timeout=240, check=False)
        uninstall(kubectl, workers)


@pytest.fixture(scope="session")
def namespace(make_namespace: MakeNamespace, driver: str) -> str:
    return make_namespace(NS)
