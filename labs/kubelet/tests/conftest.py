"""The kubelet lab's setup: kubelab-deviceplugin and kubelab-dra (the reference, or your packages
with --impl) on every worker, each with a fresh inventory of simulated accelerators; a namespace for
the checkpoints' pods. At the end the pods and claims go, then the driver and the plugin, their
files, slices and resource on the nodes: other labs find the cluster as it was.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.namespaces import MakeNamespace
from kubelab_labkit.nodes import workers as worker_names

from . import dralab
from .devicelab import deploy, uninstall

NS = "kubelab-kubelet-lab"


@pytest.fixture(scope="session")
def workers(kubectl: Kubectl) -> list[str]:
    return worker_names(kubectl)


@pytest.fixture(scope="session")
def plugin(kubectl: Kubectl, component_image: str, workers: list[str]) -> Iterator[str]:
    """kubelab-deviceplugin runs on every worker (the graded kubelab_deviceplugin: the lab image with it
    first on PYTHONPATH).

    Hint (Chapter 9, device plugins): `kubectl -n kubelab-devices get pods -o wide`;
    `kubectl -n kubelab-devices logs ds/kubelab-deviceplugin` (registration, device changes, each
    call); an exception at start names the module of yours that failed to import.
    """
    try:
        deploy(kubectl, component_image, workers)
        yield component_image
    finally:
        kubectl.run("delete", "namespace", NS, "--ignore-not-found", "--wait=true", timeout=180, check=False)
        uninstall(kubectl, workers)


@pytest.fixture(scope="session")
def namespace(make_namespace: MakeNamespace, plugin: str) -> str:
    return make_namespace(NS)


@pytest.fixture(scope="session")
def dra(kubectl: Kubectl, component_image: str, workers: list[str], namespace: str) -> Iterator[str]:
    """kubelab-dra runs on every worker and publishes its ResourceSlice (the graded kubelab_dra: the
    lab image with it first on PYTHONPATH).

    Hint (Chapter 9, DRA): `kubectl -n kubelab-dra get pods -o wide`; `kubectl -n kubelab-dra logs
    ds/kubelab-dra` (registration, the slice, each claim prepared); `kubectl get resourceslices`.
    """
    try:
        dralab.deploy(kubectl, component_image, workers)
        yield component_image
    finally:  # the claims' pods first: only a running driver can unprepare their claims
        kubectl.run("-n", namespace, "delete", "pods", "--all", "--wait=true", timeout=180, check=False)
        kubectl.run("-n", namespace, "delete", "resourceclaims,resourceclaimtemplates", "--all", "--wait=true",
                    timeout=120, check=False)  # fmt: skip
        dralab.uninstall(kubectl, workers)
