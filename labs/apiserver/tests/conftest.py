"""The API server lab's setup: kube-apiserver's webhooks (7.1, 7.2: the token issuer, the TokenReview
and SubjectAccessReview webhooks, the reference's or yours) with kube-apiserver's authentication
and authorization configurations pointing at them; the aggregated server (the reference, or your kubelab_apiserver with
--impl) with its own etcd, registered through an APIService; a namespace for the checkpoints.

At the end kube-apiserver's configurations are put back (and the lab waits until it runs on them),
the APIService goes first (discovery never lists a group nobody serves), then the
server: other labs find the cluster as it was.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.namespaces import MakeNamespace

from . import admissionlab, webhooklab
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


@pytest.fixture(scope="session")
def webhooks(kubectl: Kubectl, component_image: str) -> Iterator[webhooklab.Webhooks]:
    """The webhooks' pod is Ready at the cluster's webhook ClusterIP, and kube-apiserver has reloaded its
    AuthenticationConfiguration (the issuer's JWTs) and AuthorizationConfiguration (the webhook).

    Hint (7.1, 7.2): `kubectl -n kubelab-apiserver-webhooks logs deploy/kubelab-webhooks`; whether
    kube-apiserver reloaded the files: `kubectl -n kube-system logs kube-apiserver-kubelab-control-plane | grep -i
    -E 'authentication config|authorization config|jwt'`; the files are in /var/lib/kubelab/cluster-files on this
    machine (/etc/kubelab on the nodes).
    """
    hooks: webhooklab.Webhooks | None = None
    try:
        hooks = webhooklab.deploy(kubectl, component_image)
        yield hooks
    finally:
        webhooklab.uninstall(kubectl, hooks)


@pytest.fixture(scope="module")
def admission(
    kubectl: Kubectl, webhooks: webhooklab.Webhooks, make_namespace: MakeNamespace
) -> Iterator[admissionlab.Admission]:
    """kube-apiserver runs the toolchain's patched build with KubelabOwner enabled; the admission webhooks
    (served by the webhooks' pod) and the admission policies are registered. After the checkpoint's module:
    unregistered, and kube-apiserver back on the cluster's manifest, serving the pinned version.

    Hint (7.3): `kubectl -n kube-system get pod kube-apiserver-kubelab-control-plane -o yaml` (image, flags);
    if it does not come back, `docker exec kubelab-control-plane crictl ps -a --name kube-apiserver` and
    `crictl logs` of the last one (a flag or plugin name it refuses is on its last lines).
    """
    try:
        hooks = admissionlab.swap_in(kubectl)
        admissionlab.register(kubectl, make_namespace(admissionlab.NS))
        yield hooks
    finally:
        admissionlab.unregister(kubectl)
        admissionlab.swap_out(kubectl)
