"""2.3 Certificates and kubeconfig: kubeadm's PKI, a user through the CSR API, raw TLS, 401 and 403."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kubelab_client.certs.csr import issue_user_certificate
from kubelab_client.certs.kubeconfig import read_cluster, read_user, user_kubeconfig, write_kubeconfig
from kubelab_client.certs.pki import describe, new_key, read_node_pki
from kubelab_client.certs.pki import self_signed as make_self_signed
from kubelab_client.certs.rawtls import RawTLSError, raw_get
from kubelab_client.errors import ApiError
from kubelab_client.kube import Api
from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube, objects
from kubelab_labkit.waiting import eventually

USER, GROUP = "kubelab-student", "kubelab-students"


@pytest.fixture(scope="module")
def student(api: Api, kubeconfig: Path, namespace: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A kubeconfig for CN=kubelab-student, O=kubelab-students, issued through the CSR API."""
    issued = issue_user_certificate(api, USER, [GROUP], expiration_seconds=3600)
    config = user_kubeconfig(read_cluster(kubeconfig), USER, issued.cert_pem, issued.key_pem, namespace)
    path = write_kubeconfig(tmp_path_factory.mktemp("student") / "student.kubeconfig", config)
    yield path


def test_06_kubeadm_pki(external_cluster: bool) -> None:
    """Three CAs sign the control plane's certificates: cluster CA, front-proxy CA, etcd CA.

    Hint (2.3): `uv run kubelab-client pki` reads them with `docker exec kubelab-control-plane cat
    /etc/kubernetes/pki/...` (read_node_pki and describe in components/client/kubelab_client/certs/pki.py).
    """
    if external_cluster:
        pytest.skip("reads the kind control-plane node's files")
    pki = {entry.path: entry.info for entry in read_node_pki("kubelab-control-plane")}
    cluster_ca, proxy_ca, etcd_ca = pki["ca.crt"], pki["front-proxy-ca.crt"], pki["etcd/ca.crt"]
    for ca in (cluster_ca, proxy_ca, etcd_ca):
        assert ca.is_ca and ca.subject == ca.issuer, ca  # self-signed roots
    assert len({cluster_ca.subject, proxy_ca.subject, etcd_ca.subject}) == 3
    assert pki["apiserver.crt"].issuer == cluster_ca.subject
    assert pki["apiserver-kubelet-client.crt"].issuer == cluster_ca.subject
    assert pki["front-proxy-client.crt"].issuer == proxy_ca.subject
    for etcd_cert in ("etcd/server.crt", "etcd/peer.crt", "apiserver-etcd-client.crt"):
        assert pki[etcd_cert].issuer == etcd_ca.subject, etcd_cert
    assert "127.0.0.1" in pki["apiserver.crt"].sans  # kind dials the API server on localhost


def test_07_user_certificate_from_the_csr_api(student: Path, api: Api) -> None:
    """A CSR (CN=user, O=group) approved by the admin comes back signed by the cluster CA.

    Hint (2.3): signerName kubernetes.io/kube-apiserver-client, usages [client auth]; approve through the
    /approval subresource; kube-controller-manager signs it (`kubectl get csr`). The steps are csr_object,
    approve, wait_for_certificate and issue_user_certificate in kubelab_client/certs/csr.py; try
    `uv run kubelab-client issue-cert alice -g kubelab-students --kubeconfig $KUBECONFIG -o /tmp/a.kubeconfig`.
    """
    user = read_user(student)
    assert user.cert_pem and user.key_pem
    info = describe(user.cert_pem)
    assert info.subject == f"CN={USER},O={GROUP}", info.subject
    assert "clientAuth" in info.usages, info.usages
    admin_ca = describe(read_cluster(student).ca_pem)
    assert info.issuer == admin_ca.subject, (info.issuer, admin_ca.subject)
    assert (info.not_after - info.not_before).total_seconds() <= 3600 + 600  # expirationSeconds, backdated 5 min
    leftovers = api.request("GET", "/apis/certificates.k8s.io/v1/certificatesigningrequests")["items"]
    assert not [c for c in leftovers if c["metadata"]["name"] == f"kubelab-{USER}"], "the CSR object was not deleted"


def test_08_forbidden_until_a_rolebinding(student: Path, kubectl: Kubectl, namespace: str) -> None:
    """The new user is authenticated but may do nothing (403) until a RoleBinding grants its group a Role.

    Hint (2.3): the RoleBinding's subject is `{kind: Group, name: kubelab-students}`: RBAC sees the
    certificate's O. Ask the API server: `kubectl -n kubelab-client auth can-i list configmaps --as
    kubelab-student --as-group kubelab-students`; `kubectl -n kubelab-client get rolebindings -o yaml`.
    """
    as_student = Api.from_config(str(student))
    with pytest.raises(ApiError) as denied:
        as_student.request("GET", f"/api/v1/namespaces/{namespace}/configmaps")
    assert denied.value.status == 403, denied.value
    assert f'User "{USER}" cannot list resource "configmaps"' in denied.value.message
    kube.apply(
        kubectl,
        objects.role("configmap-reader", namespace, [objects.rule([""], ["configmaps"], ["get", "list", "watch"])]),
        objects.role_binding(
            "students-read-configmaps", namespace, "configmap-reader", [objects.subject("Group", GROUP)]
        ),
    )

    def allowed() -> bool:
        try:
            return "items" in as_student.request("GET", f"/api/v1/namespaces/{namespace}/configmaps")
        except ApiError as exc:
            assert exc.status == 403, exc
            return False

    eventually(allowed, timeout=15, what="the student may list configmaps")
    with pytest.raises(ApiError) as still_denied:  # the Role grants reading configmaps, nothing else
        as_student.request("GET", f"/api/v1/namespaces/{namespace}/secrets")
    assert still_denied.value.status == 403
    as_student.close()


def test_09_the_same_request_over_raw_tls(student: Path, namespace: str) -> None:
    """ssl + http.client with the kubeconfig's embedded CA, certificate and key get the same 200.

    Hint (2.3): ssl.SSLContext(PROTOCOL_TLS_CLIENT), load_verify_locations(cadata=CA), load_cert_chain(cert,
    key): tls_context and raw_get in components/client/kubelab_client/certs/rawtls.py; try
    `uv run kubelab-client raw-get /api/v1/namespaces/kube-system/configmaps --kubeconfig $KUBECONFIG`.
    """
    cluster, user = read_cluster(student), read_user(student)
    response = raw_get(
        cluster.server, f"/api/v1/namespaces/{namespace}/configmaps", cluster.ca_pem, user.cert_pem, user.key_pem
    )
    assert response.status == 200 and response.body["kind"] == "ConfigMapList", response
    assert "kube-root-ca.crt" in [item["metadata"]["name"] for item in response.body["items"]]
    assert response.server_subject == "CN=kube-apiserver", response.server_subject
    assert response.tls_version in ("TLSv1.2", "TLSv1.3")


def test_10_a_certificate_from_another_ca_is_401(student: Path, namespace: str) -> None:
    """A self-signed client certificate (no cluster CA behind it) gets 401 Unauthorized, clearly said.

    Hint (2.3): the server accepts the TLS handshake (client certificates are optional) but its x509
    authenticator rejects the chain: 401, not 403. The error names the certificate's subject: raw_get in
    components/client/kubelab_client/certs/rawtls.py builds the RawTLSError; self_signed is in certs/pki.py.
    """
    cluster = read_cluster(student)
    key = new_key()
    forged = make_self_signed(key, USER, [GROUP])
    from kubelab_client.certs.pki import key_pem

    with pytest.raises(RawTLSError) as rejected:
        raw_get(cluster.server, f"/api/v1/namespaces/{namespace}/configmaps", cluster.ca_pem, forged, key_pem(key))
    assert rejected.value.status == 401, rejected.value
    assert "401 Unauthorized" in str(rejected.value) and f"CN={USER}" in str(rejected.value), rejected.value
