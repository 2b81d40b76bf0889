"""One API request over raw TLS (``ssl`` + ``http.client``): what every client library does underneath.

The client trusts the server because its certificate chains to the kubeconfig's
``certificate-authority-data`` and names the host it dialled; the server trusts the
client because the client certificate chains to its ``--client-ca-file``. Then the
certificate's ``CN`` is the user and each ``O`` a group, and RBAC decides (403 or 200).
"""

from __future__ import annotations

import http.client
import json
import os
import ssl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509

from kubelab_client.certs.pki import Clock, check_validity, describe, utcnow
from kubelab_client.errors import ClientError


class RawTLSError(ClientError):
    """A raw request failed; ``status`` is the HTTP status, 0 if none came back."""

    def __init__(self, message: str, status: int = 0, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


@dataclass(frozen=True)
class RawResponse:
    status: int
    body: Any
    tls_version: str
    cipher: str
    server_subject: str


@contextmanager
def _pem_files(cert_pem: bytes, key_pem: bytes) -> Iterator[tuple[str, str]]:
    # ssl.load_cert_chain reads files only: private temporary files, removed at once
    with tempfile.TemporaryDirectory(prefix="kubelab-tls-") as tmp:
        cert, key = Path(tmp) / "client.crt", Path(tmp) / "client.key"
        for path, data in ((cert, cert_pem), (key, key_pem)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        yield str(cert), str(key)


def _tls_info(sock: object) -> tuple[str, str, str]:
    """(TLS version, cipher, server certificate subject) of a connected socket."""
    if not isinstance(sock, ssl.SSLSocket):
        return "", "", ""
    peer = sock.getpeercert(binary_form=True)
    subject = x509.load_der_x509_certificate(peer).subject.rfc4514_string() if peer else ""
    return sock.version() or "", (sock.cipher() or ("",))[0], subject


def tls_context(ca_pem: bytes, cert_pem: bytes | None = None, key_pem: bytes | None = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies the chain and the host name
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(cadata=ca_pem.decode())
    if cert_pem and key_pem:
        with _pem_files(cert_pem, key_pem) as (cert, key):
            ctx.load_cert_chain(cert, key)
    return ctx


def raw_get(
    server: str,
    path: str,
    ca_pem: bytes,
    cert_pem: bytes | None = None,
    key_pem: bytes | None = None,
    *,
    token: str | None = None,
    timeout: float = 10.0,
    check_expiry: bool = True,
    now: Clock = utcnow,
) -> RawResponse:
    """``GET server+path``; returns a 2xx answer, raises :class:`RawTLSError` with the reason otherwise.

    With ``check_expiry``, an expired (or not yet valid) client certificate is refused here,
    before dialling, with its dates (:class:`~kubelab_client.certs.pki.CertificateExpired`).
    """
    who = "anonymous"
    if cert_pem:
        info = check_validity(cert_pem, now) if check_expiry else describe(cert_pem)
        who = f"{info.subject} (issuer {info.issuer})"
    url = urlsplit(server)
    if url.scheme != "https" or not url.hostname:
        raise RawTLSError(f"server {server!r} is not an https:// URL")
    ctx = tls_context(ca_pem, cert_pem, key_pem)
    conn = http.client.HTTPSConnection(url.hostname, url.port or 443, context=ctx, timeout=timeout)
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        try:
            conn.request("GET", path, headers=headers)
            tls = _tls_info(conn.sock)  # now: an HTTP/1.0 server's close would drop the socket
            response = conn.getresponse()
            data = response.read()
        except ssl.SSLCertVerificationError as exc:
            raise RawTLSError(
                f"{server}: the server's certificate is not trusted ({exc.verify_message}): is the kubeconfig's "
                "certificate-authority-data the cluster CA, and does the server certificate name this host?"
            ) from exc
        except ssl.SSLError as exc:
            raise RawTLSError(
                f"{server}: TLS handshake failed ({exc.reason or exc}): the server rejected the client certificate "
                f"{who}? (expired, or not signed by a CA it trusts)"
            ) from exc
        except TimeoutError as exc:
            raise RawTLSError(f"{server}: no answer within {timeout:.0f} s ({exc})") from exc
        except OSError as exc:
            raise RawTLSError(f"{server}: connection failed ({exc}); client certificate: {who}") from exc
    finally:
        conn.close()
    try:
        body: Any = json.loads(data) if data else None
    except ValueError:
        body = data[:200].decode(errors="replace")
    if response.status == 401:
        raise RawTLSError(
            f"401 Unauthorized from {server}{path}: the API server did not accept the client certificate {who}: "
            "it must be signed by the cluster CA (--client-ca-file) and be valid now",
            401,
            body,
        )
    if response.status >= 400:
        message = body.get("message") if isinstance(body, dict) else body
        raise RawTLSError(f"{response.status} {response.reason} from {server}{path}: {message}", response.status, body)
    return RawResponse(response.status, body, *tls)
