"""The kubelet lab's setup: kubelab-deviceplugin and kubelab-dra (the reference, or your packages
with --impl) on every worker, each with a fresh inventory of simulated accelerators; a namespace for
the checkpoints' pods. At the end the pods and claims go, then the driver and the plugin, their
files, slices and resource on the nodes: other labs find the cluster as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from kubelab_cluster.kind import credential_provider
from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.impl import Submission
from kubelab_labkit.namespaces import MakeNamespace
from kubelab_labkit.nodes import swappable
from kubelab_labkit.nodes import workers as worker_names
from kubelab_labkit.waiting import eventually

from . import dralab, kubeletlab, registrylab
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


@pytest.fixture(scope="session")
def private_image(impl: Submission | None, workers: list[str], namespace: str) -> Iterator[str]:
    """A registry that requires a password (kubelab-auth-registry) holds the image; the credentials are
    in /etc/kubelab/credential-provider/credentials.json on the nodes, and the graded
    kubelab-credential-provider is in the kubelet's bin directory. At the end the registry, the
    credentials and the image on the nodes go, and the reference provider is put back.

    Hint (Chapter 9, credential providers): `docker logs kubelab-auth-registry`; on the node,
    `journalctl -u kubelet | grep -i credential` shows the provider's stderr.
    """
    graded = impl.path / credential_provider.PACKAGE if impl and credential_provider.PACKAGE in impl.packages else None
    try:
        password = registrylab.start(workers)
        registrylab.write_credentials(password)
        credential_provider.install(graded)
        yield registrylab.IMAGE
    finally:
        registrylab.stop(workers)
        registrylab.remove_credentials()
        credential_provider.install()


@dataclass(frozen=True)
class PatchedNode:
    name: str
    capacity: dict[str, str]  # what the unpatched kubelet reported
    allocatable: dict[str, str]


@pytest.fixture(scope="session")
def patched_kubelet(kubectl: Kubectl, namespace: str) -> Iterator[PatchedNode]:
    """The kubelet built from patched source (kubelet-plugins/kubelet-patch, the toolchain's
    kubelet-kubelab) runs on the swappable worker; at the end the original is back, restarted and Ready,
    with the node's capacity as before.

    Hint (Chapter 9, patching the kubelet): `uv run kubelab-toolchain build kubelet-kubelab` builds it
    (an anchor of patch.toml that matches nothing names the edit); on the node `journalctl -u kubelet`.
    """
    node = swappable(kubectl)
    before = kubeletlab.node_status(kubectl, node)
    original = before["nodeInfo"]["kubeletVersion"]
    binary = kubeletlab.patched_binary()
    try:
        kubeletlab.remove_config(node)
        kubeletlab.swap_in(node, binary)
        kubeletlab.wait_ready_on(kubectl, node, kubeletlab.patched_version())
        yield PatchedNode(node, dict(before["capacity"]), dict(before["allocatable"]))
    finally:
        kubectl.run("-n", namespace, "delete", "pods", "-l", "kubelab.dev/checkpoint=patched-kubelet",
                    "--wait=true", check=False)  # fmt: skip
        kubeletlab.swap_back(node)
        kubeletlab.wait_ready_on(kubectl, node, original)
        kubeletlab.drop_condition(kubectl, node)

        def as_before() -> bool:
            now = kubeletlab.node_status(kubectl, node)["capacity"]
            assert (now["cpu"], now["memory"]) == (before["capacity"]["cpu"], before["capacity"]["memory"]), now
            return True

        eventually(as_before, timeout=90, interval=2, what=f"{node}'s capacity as before the lab")
