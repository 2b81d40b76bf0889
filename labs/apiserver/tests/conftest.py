"""The API server lab's setup: the aggregated server (the reference, or your kubelab_apiserver with
--impl) with its own etcd, registered through an APIService; a namespace for the checkpoints.

At the end the APIService goes first (discovery never lists a group nobody serves), then the
server: other labs find the cluster as it was.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.namespaces import MakeNamespace

from .aggregatedlab import deploy, uninstall


@pytest.fixture(scope="session")
def aggregated(kubectl: Kubectl, component_image: str) -> Iterator[bytes]:
    """The aggregated server's pod is Ready and its APIService Available; yields its serving CA.

    Hint (7.4): `kubectl -n kubelab-apiserver get pods`, `kubectl -n kubelab-apiserver logs deploy/kubelab-aggregated
    -c server` (an exception at start names the module of yours that failed to import) and
    `kubectl get apiservice v1alpha1.books.kubelab.dev -o yaml` (its condition says why it is not Available).
    """
    try:
        yield deploy(kubectl, component_image)
    finally:
        uninstall(kubectl)


@pytest.fixture(scope="session")
def namespace(make_namespace: MakeNamespace, aggregated: bytes) -> str:
    return make_namespace("kubelab-apiserver-lab")
