"""The webhook certificates: issued for the Service's names, chained to their CA, rotated when due."""

from __future__ import annotations

import datetime as dt
import ssl
import tempfile
from pathlib import Path

from kubelab_client.certs import pki
from kubelab_operator.webhooks.certs import issue, needs_rotation

NAMES = [
    "kubelab-operator-webhook.kubelab-operator-system.svc",
    "kubelab-operator-webhook.kubelab-operator-system.svc.cluster.local",
]


def test_issued_certificate_verifies_for_the_service_names() -> None:
    bundle = issue(NAMES, dt.timedelta(days=1))
    with tempfile.TemporaryDirectory() as tmp:
        cert, key, ca = Path(tmp, "tls.crt"), Path(tmp, "tls.key"), Path(tmp, "ca.crt")
        cert.write_bytes(bundle.cert_pem)
        key.write_bytes(bundle.key_pem)
        ca.write_bytes(bundle.ca_bundle)
        server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.load_cert_chain(cert, key)  # a matching pair
        client = ssl.create_default_context(cafile=str(ca))
        assert client.verify_mode == ssl.CERT_REQUIRED
    info = pki.describe(bundle.cert_pem)
    assert sorted(info.sans) == sorted(NAMES)
    assert needs_rotation(bundle, NAMES, pki.utcnow(), dt.timedelta(days=1)) is None


def test_rotation_reasons() -> None:
    bundle = issue(NAMES, dt.timedelta(days=3))
    later = pki.utcnow() + dt.timedelta(days=2, hours=1)  # less than a third of its life left
    assert "expires at" in (needs_rotation(bundle, NAMES, later, dt.timedelta(days=3)) or "")
    assert "names" in (needs_rotation(bundle, NAMES[:1], pki.utcnow(), dt.timedelta(days=3)) or "")


def test_new_bundle_keeps_the_previous_ca() -> None:
    old = issue(NAMES, dt.timedelta(days=1))
    new = issue(NAMES, dt.timedelta(days=1), previous_ca=old.ca_pem)
    assert new.ca_bundle.startswith(new.ca_pem) and new.ca_bundle.endswith(old.ca_pem)
    assert new.ca_pem != old.ca_pem
