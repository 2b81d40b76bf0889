"""2.1 The environment: a kubeconfig, a reachable API server, a client that speaks to it."""

from __future__ import annotations

from pathlib import Path

from kubelab_client.kube import Api
from kubelab_cluster.kind.kubectl import Kubectl


def test_01_api_server_answers(api: Api, kubectl: Kubectl) -> None:
    """The API server answers /version and /readyz through our client, as it does kubectl.

    Hint (2.1): `uv run kubelab-cluster status` prints the kubeconfig; `kubectl version` must answer first.
    Our side is Api.from_config, Api.server_version and Api.request in components/client/kubelab_client/kube.py.
    """
    version = api.server_version()
    assert version["gitVersion"].startswith("v1."), version
    assert api.request("GET", "/api/v1/namespaces/default")["metadata"]["name"] == "default"
    assert version["gitVersion"] in kubectl.run("version")


def test_02_kubeconfig_is_the_admin(kubeconfig: Path) -> None:
    """The lab kubeconfig is kind's admin: a client certificate of the cluster CA, O=kubeadm:cluster-admins.

    Hint (2.1): the checkpoints create CSRs, CRDs and RBAC objects: they need an admin kubeconfig. The lab
    reads it with read_user (components/client/kubelab_client/certs/kubeconfig.py) and describe (certs/pki.py);
    by hand: `kubectl config view --raw -o jsonpath='{.users[0].user.client-certificate-data}' | base64 -d |
    openssl x509 -noout -subject`.
    """
    from kubelab_client.certs.kubeconfig import read_user
    from kubelab_client.certs.pki import describe

    user = read_user(kubeconfig)
    assert user.cert_pem, "the lab expects a client-certificate kubeconfig (kind's admin)"
    info = describe(user.cert_pem)
    assert "O=kubeadm:cluster-admins" in info.subject or "O=system:masters" in info.subject, info.subject
