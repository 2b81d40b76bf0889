"""Checkpoint 8 (book 7.4): the aggregated server trusts kube-apiserver for who is asking and what
they may do: the front proxy's headers only from the front proxy, bearer tokens by TokenReview,
permissions by SubjectAccessReview (RBAC)."""

from __future__ import annotations

import json
from pathlib import Path

from kubelab_client.certs.csr import issue_user_certificate
from kubelab_client.certs.kubeconfig import read_cluster, token_kubeconfig, write_kubeconfig
from kubelab_client.kube import Api
from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube, objects
from kubelab_labkit.forwarding import port_forward

from .aggregatedlab import GV, NS, SERVICE, book, clear, direct


def test_08_who_is_asking_and_may_they(kubectl: Kubectl, namespace: str, aggregated: bytes, tmp_path: Path) -> None:
    """Through kube-apiserver: an impersonated user is the Book's defaulted author; a service account
    bound to the `view` role may list but not create (403: kube-apiserver asks RBAC before it forwards).
    Straight to the server: its token is checked by TokenReview (and may list); a client certificate signed by the
    cluster CA with the front proxy's name (CN=front-proxy-client) that sends
    `X-Remote-User: system:admin` and `X-Remote-Group: system:masters` is NOT believed: only the
    requestheader CA's certificates may speak for others.

    Hint (7.4): kubelab_apiserver/auth/requestheader.py, trusted_proxy: the certificate must chain to
    the REQUESTHEADER CA (requestheader-client-ca-file in kube-system/extension-apiserver-authentication),
    not the client CA, and name an allowed proxy (requestheader-allowed-names).
    """
    clear(kubectl, namespace)
    as_carol = kubectl.attempt(
        "--as=carol",
        "--as-group=system:masters",
        "create",
        "-f",
        "-",
        "-o",
        "json",
        stdin=json.dumps(book("by-carol", namespace)),
    )
    assert as_carol.returncode == 0, as_carol.stderr
    assert json.loads(as_carol.stdout)["spec"]["author"] == "carol", "the user the aggregator passed on"

    reader_sa = objects.subject("ServiceAccount", "reader", namespace)
    kube.apply(
        kubectl,
        objects.service_account("reader", namespace),
        objects.role_binding("reader-view", namespace, "view", [reader_sa], cluster_role=True),
    )
    token = kubectl.run("-n", namespace, "create", "token", "reader").strip()
    who = f"system:serviceaccount:{namespace}:reader"
    config = token_kubeconfig(read_cluster(kubectl.kubeconfig), who, token, namespace)
    reader = Kubectl(kubectl.binary, write_kubeconfig(tmp_path / "reader.kubeconfig", config))
    listed = reader.attempt("get", "books", "-o", "name")
    assert listed.returncode == 0 and "book.books.kubelab.dev/by-carol" in listed.stdout, listed.stderr
    denied = reader.attempt("create", "-f", "-", stdin=json.dumps(book("by-reader", namespace)))
    assert denied.returncode != 0 and f'User "{who}" cannot create resource "books"' in denied.stderr, denied.stderr

    admin = Api.from_config(str(kubectl.kubeconfig))
    rogue = issue_user_certificate(admin, "front-proxy-client", csr_name="kubelab-apiserver-lab-rogue-proxy")
    cert, key = tmp_path / "rogue.crt", tmp_path / "rogue.key"
    cert.write_bytes(rogue.cert_pem)
    key.write_bytes(rogue.key_pem)
    claim = {"X-Remote-User": "system:admin", "X-Remote-Group": "system:masters"}
    with port_forward(kubectl, NS, f"svc/{SERVICE}", 443) as port:
        path = f"{GV}/namespaces/{namespace}/books"
        code, body = direct(port, aggregated, path, headers={"Authorization": f"Bearer {token}"})
        assert code == 200 and [o["metadata"]["name"] for o in body["items"]] == ["by-carol"], (code, body)
        code, body = direct(
            port,
            aggregated,
            path,
            method="POST",
            body=book("forged", namespace),
            headers=claim,
            cert=(str(cert), str(key)),
        )
        assert code == 403, f"a client certificate of the client CA made its headers believed: {code} {body}"
        assert 'User "front-proxy-client"' in body["message"] and "system:admin" not in body["message"], body
        code, body = direct(port, aggregated, path, method="POST", body=book("anonymous", namespace), headers=claim)
        assert code == 403 and 'User "system:anonymous"' in body["message"], (code, body)
    assert kubectl.json("-n", namespace, "get", "books")["items"][0]["metadata"]["name"] == "by-carol"
    assert len(kubectl.json("-n", namespace, "get", "books")["items"]) == 1, "nothing forged was stored"
