"""Chapter 2.3 without a cluster: certificates, kubeconfig files, raw TLS against a local TLS server."""

from __future__ import annotations

import base64
import datetime as dt
import json
import ssl
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from cryptography import x509

from kubelab_client.certs.csr import CLIENT_SIGNER, csr_object
from kubelab_client.certs.kubeconfig import ClusterInfo, read_cluster, read_user, user_kubeconfig, write_kubeconfig
from kubelab_client.certs.pki import (
    CertificateExpired,
    CertificateNotYetValid,
    cert_pem,
    check_validity,
    describe,
    key_pem,
    new_key,
    self_signed,
    sign,
    subject,
)
from kubelab_client.certs.rawtls import RawTLSError, raw_get
from kubelab_client.errors import ConnectionLost
from kubelab_client.kube import Api, ConfigError

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


class Pki:
    def __init__(self) -> None:
        self.ca_key = new_key()
        self.ca = sign(self.ca_key, subject("test-ca"), is_ca=True, client=False)
        self.server_key = new_key()
        self.server = sign(
            self.server_key,
            subject("test-apiserver"),
            issuer=(self.ca, self.ca_key),
            client=False,
            server_ips=["127.0.0.1"],
        )

    def client(self, user: str, start: dt.datetime, end: dt.datetime) -> tuple[bytes, bytes]:
        key = new_key()
        cert = sign(key, subject(user, ["students"]), issuer=(self.ca, self.ca_key), not_before=start, not_after=end)
        return cert_pem(cert), key_pem(key)


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


@pytest.fixture(scope="module")
def tls_server(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An HTTPS server that requires a client certificate of ``pki.ca`` (as OpenSSL checks it: dates included)."""
    tmp = tmp_path_factory.mktemp("tls")
    (tmp / "ca.crt").write_bytes(cert_pem(pki.ca))
    (tmp / "server.crt").write_bytes(cert_pem(pki.server))
    (tmp / "server.key").write_bytes(key_pem(pki.server_key))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp / "server.crt", tmp / "server.key")
    ctx.load_verify_locations(tmp / "ca.crt")
    ctx.verify_mode = ssl.CERT_REQUIRED

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            peer = self.connection.getpeercert()  # type: ignore[attr-defined]
            cn = dict(x[0] for x in peer["subject"])["commonName"]
            status, body = (401, {"kind": "Status", "code": 401}) if self.path == "/401" else (200, {"user": cn})
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_check_validity_with_a_fake_clock(pki: Pki) -> None:
    cert, _ = pki.client("alice", NOW - dt.timedelta(hours=1), NOW + dt.timedelta(hours=1))
    assert check_validity(cert, lambda: NOW).user == "alice"
    with pytest.raises(CertificateExpired, match=r"CN=alice,O=students expired at 2030-01-01 01:00:00 UTC"):
        check_validity(cert, lambda: NOW + dt.timedelta(hours=2))
    with pytest.raises(CertificateNotYetValid, match="check this machine's clock"):
        check_validity(cert, lambda: NOW - dt.timedelta(days=1))


def test_describe_reads_subject_issuer_and_usages(pki: Pki) -> None:
    info = describe(cert_pem(pki.server))
    assert info.subject == "CN=test-apiserver" and info.issuer == "CN=test-ca"
    assert info.usages == ("serverAuth",) and info.sans == ("127.0.0.1",) and not info.is_ca
    assert describe(cert_pem(pki.ca)).is_ca


def test_csr_object_carries_user_and_groups() -> None:
    from kubelab_client.certs.pki import new_csr

    obj = csr_object("x", new_csr(new_key(), "bob", ["g1", "g2"]), expiration_seconds=600)
    assert obj["spec"]["signerName"] == CLIENT_SIGNER and "client auth" in obj["spec"]["usages"]
    assert obj["spec"]["expirationSeconds"] == 600
    csr = x509.load_pem_x509_csr(base64.b64decode(obj["spec"]["request"]))
    assert csr.subject.rfc4514_string() == "CN=bob,O=g2,O=g1" and csr.is_signature_valid


def test_kubeconfig_round_trip(tmp_path: Path, pki: Pki) -> None:
    cert, key = pki.client("alice", NOW, NOW + dt.timedelta(days=1))
    cluster = ClusterInfo("kind-kubelab", "https://127.0.0.1:6443", cert_pem(pki.ca))
    path = write_kubeconfig(tmp_path / "alice.kubeconfig", user_kubeconfig(cluster, "alice", cert, key, "demo"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_cluster(path) == cluster
    user = read_user(path)
    assert (user.name, user.cert_pem, user.key_pem, user.token) == ("alice", cert, key, None)
    assert "namespace: demo" in path.read_text()


def test_raw_tls_with_a_valid_certificate(tls_server: str, pki: Pki) -> None:
    now = dt.datetime.now(dt.UTC)
    cert, key = pki.client("alice", now - dt.timedelta(minutes=5), now + dt.timedelta(hours=1))
    response = raw_get(tls_server, "/", cert_pem(pki.ca), cert, key)
    assert response.status == 200 and response.body == {"user": "alice"}
    assert response.server_subject == "CN=test-apiserver"
    with pytest.raises(RawTLSError, match=r"401 Unauthorized .* CN=alice,O=students") as unauthorized:
        raw_get(tls_server, "/401", cert_pem(pki.ca), cert, key)
    assert unauthorized.value.status == 401


def test_an_expired_certificate_is_refused_before_dialling(tls_server: str, pki: Pki) -> None:
    now = dt.datetime.now(dt.UTC)
    cert, key = pki.client("old", now - dt.timedelta(days=2), now - dt.timedelta(days=1))
    with pytest.raises(CertificateExpired, match="CN=old,O=students expired at"):
        raw_get(tls_server, "/", cert_pem(pki.ca), cert, key)


def test_an_expired_certificate_is_rejected_by_the_server(tls_server: str, pki: Pki) -> None:
    now = dt.datetime.now(dt.UTC)
    cert, key = pki.client("old", now - dt.timedelta(days=2), now - dt.timedelta(days=1))
    with pytest.raises(RawTLSError, match="CN=old,O=students") as rejected:
        raw_get(tls_server, "/", cert_pem(pki.ca), cert, key, check_expiry=False)
    assert rejected.value.status == 0
    assert "expired" in str(rejected.value) or "connection failed" in str(rejected.value)


def test_a_server_from_another_ca_is_not_trusted(tls_server: str, pki: Pki) -> None:
    other = Pki()
    cert, key = pki.client("alice", NOW - dt.timedelta(days=3650), NOW)
    with pytest.raises(RawTLSError, match="server's certificate is not trusted"):
        raw_get(tls_server, "/", cert_pem(other.ca), cert, key, check_expiry=False)


def test_self_signed_is_its_own_issuer() -> None:
    info = describe(self_signed(new_key(), "mallory", ["admins"]))
    assert info.subject == info.issuer == "CN=mallory,O=admins"


def test_config_and_connection_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot load the client configuration from .*missing"):
        Api.from_config(str(tmp_path / "missing"))
    nowhere = tmp_path / "nowhere"
    nowhere.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
    )
    api = Api.from_config(str(nowhere))
    with pytest.raises(ConnectionLost, match=r"GET https://127.0.0.1:1/version: \[Errno 111\] Connection refused"):
        api.server_version()
