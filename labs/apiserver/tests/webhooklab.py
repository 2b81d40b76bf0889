"""What the checkpoints of 7.1 and 7.2 need: the webhooks deployed at the ClusterIP the cluster's
token-webhook kubeconfig names, serving a certificate of the cluster's webhook CA; kube-apiserver's
authentication and authorization configurations rewritten to use them (kube-apiserver reloads
both files) and put back at the end; tokens of the issuer; requests as a given token."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from kubelab_apiserver.authn.configuration import authentication_configuration, jwt_authenticator, webhook_kubeconfig
from kubelab_apiserver.authn.issuer import Issuer, key_pem, new_key
from kubelab_apiserver.authz.configuration import authorization_configuration, webhook_authorizer
from kubelab_client.certs import pki
from kubelab_client.certs.kubeconfig import read_cluster
from kubelab_cluster.kind.cluster import boot_files
from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_cluster.kind.preflight import CLUSTER_FILES
from kubelab_cluster.kind.webhook_pki import CA_CERT, CA_KEY, WEBHOOK_IP
from kubelab_labkit import kube, manifests
from kubelab_labkit.waiting import eventually

NS = "kubelab-apiserver-webhooks"
AUTHN = CLUSTER_FILES / "apiserver-authentication.yaml"
AUTHZ = CLUSTER_FILES / "apiserver-authorization.yaml"
AUTHZ_KUBECONFIG = "apiserver-authz-webhook.kubeconfig"
AUDIENCE = "kubelab"
ISSUER_URL = f"https://{WEBHOOK_IP}"
# the token webhook's table: a user the issuer knows nothing about, and one in the auditors group
STATIC = {
    "kubelab-static-token-bob": {
        "username": "kubelab-webhook:bob",
        "uid": "bob-1",
        "groups": ["kubelab:webhook-users"],
    },
    "kubelab-static-token-eve": {"username": "kubelab-webhook:eve", "groups": ["kubelab:auditors"]},
}
WHOAMI = "/apis/authentication.k8s.io/v1/selfsubjectreviews"


@dataclass
class Webhooks:
    issuer: Issuer
    server: str  # kube-apiserver's URL
    ca_file: str  # the cluster CA, to verify kube-apiserver
    reload_seconds: float = 0.0  # how long kube-apiserver took to pick both configurations up

    def jwt(self, subject: str = "alice", **overrides: Any) -> str:
        claims: dict[str, Any] = {"audience": AUDIENCE, "groups": ["dev"], "department": "books"}
        claims.update(overrides)
        return self.issuer.token(subject, **claims)

    def call(self, token: str, method: str = "GET", path: str = WHOAMI, body: Any = None) -> tuple[int, Any]:
        """A request to kube-apiserver as ``token``: (HTTP status, decoded body)."""
        if path == WHOAMI and method == "GET":
            method, body = "POST", {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.server + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        context = ssl.create_default_context(cafile=self.ca_file)
        try:
            with urllib.request.urlopen(request, context=context, timeout=30) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                return exc.code, json.loads(raw or b"null")
            except ValueError:
                return exc.code, raw.decode(errors="replace")

    def whoami(self, token: str) -> dict[str, Any]:
        code, body = self.call(token)
        assert code == 201 or code == 200, f"SelfSubjectReview as the token: {code} {body}"
        info: dict[str, Any] = body["status"]["userInfo"]
        return info


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def serving_certificate() -> tuple[bytes, bytes, bytes]:
    """(CA, certificate, key) for the webhooks' ClusterIP, signed by the CA the cluster was made with."""
    ca_pem = (CLUSTER_FILES / CA_CERT).read_bytes()
    ca = x509.load_pem_x509_certificate(ca_pem)
    ca_key = serialization.load_pem_private_key((CLUSTER_FILES / CA_KEY).read_bytes(), password=None)
    start = pki.utcnow() - dt.timedelta(minutes=1)
    key = pki.new_key()
    cert = pki.sign(
        key,
        pki.subject("kubelab-webhooks"),
        issuer=(ca, ca_key),
        client=False,  # type: ignore[arg-type]
        server_ips=[WEBHOOK_IP],
        dns_names=[f"kubelab-webhooks.{NS}.svc"],
        not_before=start,
        not_after=start + dt.timedelta(days=7),
    )
    return ca_pem, pki.cert_pem(cert), pki.key_pem(key)


def _write(path: Path, text: str) -> None:
    """Atomically, so kube-apiserver never reads half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def restore_configuration() -> None:
    for source in boot_files():
        if source.name in (AUTHN.name, AUTHZ.name):
            _write(CLUSTER_FILES / source.name, source.read_text())
    (CLUSTER_FILES / AUTHZ_KUBECONFIG).unlink(missing_ok=True)


def deploy(kubectl: Kubectl, image: str) -> Webhooks:
    ca_pem, cert, key = serving_certificate()
    issuer = Issuer(ISSUER_URL, new_key())
    manifests.apply_component(
        kubectl,
        "apiserver",
        "webhooks.yaml",
        IMAGE=image,
        WEBHOOK_IP=WEBHOOK_IP,
        TLS_CRT=_b64(cert),
        TLS_KEY=_b64(key),
        ISSUER_KEY=_b64(key_pem(issuer.key)),
        TOKENS=_b64(yaml.safe_dump(STATIC).encode()),
    )
    kube.rollout(kubectl, "deployment/kubelab-webhooks", namespace=NS, timeout=180)
    cluster = read_cluster(kubectl.kubeconfig)
    ca_file = Path(kubectl.kubeconfig).with_name("kubelab-cluster-ca.crt")
    ca_file.write_bytes(cluster.ca_pem)
    hooks = Webhooks(issuer, cluster.server, str(ca_file))
    _write(
        CLUSTER_FILES / AUTHZ_KUBECONFIG,
        yaml.safe_dump(webhook_kubeconfig(f"{ISSUER_URL}/authorize", ca_pem, "kubelab-authz-webhook")),
    )
    _write(AUTHN, yaml.safe_dump(authentication_configuration([jwt_authenticator(ISSUER_URL, ca_pem, [AUDIENCE])])))
    _write(
        AUTHZ,
        yaml.safe_dump(
            authorization_configuration(webhook_authorizer(f"/etc/kubelab/{AUTHZ_KUBECONFIG}", timeout="3s"))
        ),
    )
    started = time.monotonic()
    eventually(
        lambda: hooks.whoami(hooks.jwt()),
        timeout=150,
        interval=1,
        what="kube-apiserver reloading its AuthenticationConfiguration with the issuer",
    )
    eventually(
        lambda: _auditor_allowed(hooks),
        timeout=150,
        interval=1,
        what="kube-apiserver reloading its AuthorizationConfiguration with the webhook",
    )
    hooks.reload_seconds = time.monotonic() - started
    return hooks


def _auditor_allowed(hooks: Webhooks) -> bool:
    code, body = hooks.call("kubelab-static-token-eve", path="/api/v1/namespaces/kube-system/pods")
    assert code == 200, f"an auditor listing pods: {code} {body}"
    return True


def uninstall(kubectl: Kubectl, hooks: Webhooks | None) -> None:
    """The configurations first, waiting until kube-apiserver runs on them again (while the webhooks can
    still tell: the auditor's static token is refused again), then the webhooks."""
    restore_configuration()
    if hooks is not None:

        def reverted() -> bool:
            code, _ = hooks.call("kubelab-static-token-eve", path="/api/v1/namespaces/kube-system/pods")
            assert code == 403, f"the authorization webhook still decides ({code})"
            code, _ = hooks.call(hooks.jwt())
            assert code == 401, f"the issuer's tokens still authenticate ({code})"
            return True

        eventually(reverted, timeout=150, interval=1, what="kube-apiserver back on the cluster's configurations")
    kubectl.run("delete", "namespace", NS, "--ignore-not-found", "--wait=true", timeout=180, check=False)
