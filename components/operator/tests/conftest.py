"""The operator's integration tests on a real API server (book 3.3.6, as controller-runtime's
envtest; ``control_plane`` comes from components/conftest.py): the operator's webhooks in this
process over TLS, and its manifests (the generated CRD, the webhook configurations, the policy)
installed with their clientConfig pointed at them."""

from __future__ import annotations

import base64
import datetime as dt
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubelab_client.certs import pki
from kubelab_client.kube import Api
from kubelab_client.testing.envtest import ControlPlane, free_port, install_crd
from kubelab_operator.webhooks.server import WebhookServer

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def _docs(name: str, **values: str) -> list[dict[str, Any]]:
    text = (DEPLOY / name).read_text()
    if values:
        text = string.Template(text).safe_substitute(values)
    return [d for d in yaml.safe_load_all(text) if d]


def _serve_webhooks(workdir: Path) -> tuple[WebhookServer, str, bytes]:
    start = pki.utcnow() - dt.timedelta(minutes=1)
    ca_key, key = pki.new_key(), pki.new_key()
    ca = pki.sign(ca_key, pki.subject("envtest-webhook-ca"), is_ca=True, not_before=start)
    cert = pki.sign(key, pki.subject("envtest-webhook"), issuer=(ca, ca_key), client=False, server_ips=["127.0.0.1"])
    certs = workdir / "webhook-certs"
    certs.mkdir()
    (certs / "tls.crt").write_bytes(pki.cert_pem(cert))
    (certs / "tls.key").write_bytes(pki.key_pem(key))
    port = free_port()
    server = WebhookServer(certs, host="127.0.0.1", port=port)
    server.start()
    return server, f"https://127.0.0.1:{port}", pki.cert_pem(ca)


def _point_at(client_config: dict[str, Any], base: str, ca: bytes) -> None:
    path = client_config.pop("service")["path"]
    client_config["url"] = base + path
    client_config["caBundle"] = base64.b64encode(ca).decode()


@pytest.fixture(scope="session")
def api(control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The admin client of a control plane with the operator's CRD, webhooks and policy installed."""
    client = control_plane.api()
    server, base, ca = _serve_webhooks(tmp_path_factory.mktemp("webhooks"))
    try:
        (crd,) = _docs("crd.yaml")
        _point_at(crd["spec"]["conversion"]["webhook"]["clientConfig"], base, ca)
        install_crd(client, crd)
        kinds = {
            "MutatingWebhookConfiguration": "mutatingwebhookconfigurations",
            "ValidatingWebhookConfiguration": "validatingwebhookconfigurations",
        }
        for doc in _docs("operator.yaml", IMAGE="unused", CERT_VALIDITY_HOURS="1"):
            if doc["kind"] in kinds:
                for hook in doc["webhooks"]:
                    _point_at(hook["clientConfig"], base, ca)
                client.request("POST", f"/apis/admissionregistration.k8s.io/v1/{kinds[doc['kind']]}", body=doc)
        for doc in _docs("policy.yaml"):
            plural = {
                "ValidatingAdmissionPolicy": "validatingadmissionpolicies",
                "ValidatingAdmissionPolicyBinding": "validatingadmissionpolicybindings",
            }[doc["kind"]]
            client.request("POST", f"/apis/admissionregistration.k8s.io/v1/{plural}", body=doc)
        yield client
    finally:
        server.stop()
        client.close()
