"""Keys, CSRs and certificates (``cryptography``), and kubeadm's PKI as a node holds it.

A Kubernetes *user* is whatever a client certificate's subject says: ``CN`` is the user
name, each ``O`` a group. The API server trusts a client certificate if it chains to
``--client-ca-file`` (kubeadm: ``/etc/kubernetes/pki/ca.crt``) and is valid *now*.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kubelab_client.errors import ClientError

Clock = Callable[[], dt.datetime]
PrivateKey = ec.EllipticCurvePrivateKey


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class CertificateError(ClientError):
    """A certificate that cannot be used (expired, not yet valid, unreadable)."""


class CertificateExpired(CertificateError):
    pass


class CertificateNotYetValid(CertificateError):
    pass


def new_key() -> PrivateKey:
    """A new ECDSA P-256 key: small, fast, accepted by the API server and kubectl."""
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_key(pem: bytes) -> PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CertificateError(f"expected an EC private key, got {type(key).__name__}")
    return key


def subject(user: str, groups: Sequence[str] = ()) -> x509.Name:
    """``CN=user, O=group...``: how Kubernetes reads a user and its groups from a certificate."""
    # O before CN, as Go's crypto/x509 writes it: rfc4514_string() then reads "CN=user,O=group"
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, user))
    return x509.Name(attrs)


def new_csr(key: PrivateKey, user: str, groups: Sequence[str] = ()) -> bytes:
    """A PEM certificate signing request for ``CN=user, O=groups``, signed by ``key``."""
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject(user, groups)).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM)


def sign(
    key: PrivateKey,
    name: x509.Name,
    *,
    issuer: tuple[x509.Certificate, PrivateKey] | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    is_ca: bool = False,
    client: bool = True,
    server_ips: Sequence[str] = (),
    dns_names: Sequence[str] = (),
) -> x509.Certificate:
    """A certificate for ``key``'s public key: self-signed when ``issuer`` is None, else signed by it.

    For tests and the 401 checkpoint; the cluster's real certificates come from its CAs.
    """
    start = not_before or utcnow() - dt.timedelta(minutes=1)
    end = not_after or start + dt.timedelta(days=1)
    issuer_name, signer = (name, key) if issuer is None else (issuer[0].subject, issuer[1])
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH] if client else []
    if server_ips or dns_names:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    if usages and not is_ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    if server_ips or dns_names:
        sans: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
        sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in server_ips]
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(signer, hashes.SHA256())


def self_signed(key: PrivateKey, user: str, groups: Sequence[str] = (), days: int = 1) -> bytes:
    """A PEM client certificate for ``CN=user`` that no cluster CA signed: the API server answers 401."""
    start = utcnow() - dt.timedelta(minutes=1)
    cert = sign(key, subject(user, groups), not_before=start, not_after=start + dt.timedelta(days=days))
    return cert.public_bytes(serialization.Encoding.PEM)


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def load_cert(pem: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise CertificateError(f"not a PEM certificate: {exc}") from exc


@dataclass(frozen=True)
class CertInfo:
    subject: str
    issuer: str
    not_before: dt.datetime
    not_after: dt.datetime
    is_ca: bool
    usages: tuple[str, ...]
    sans: tuple[str, ...]

    @property
    def user(self) -> str:
        cn = [part[3:] for part in self.subject.split(",") if part.startswith("CN=")]
        return cn[0] if cn else ""


def describe(pem: bytes | x509.Certificate) -> CertInfo:
    cert = pem if isinstance(pem, x509.Certificate) else load_cert(pem)
    try:
        is_ca = bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        is_ca = False
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        usages = tuple(getattr(u, "_name", u.dotted_string) for u in eku)
    except x509.ExtensionNotFound:
        usages = ()
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        sans = tuple(str(v) for v in san.get_values_for_type(x509.DNSName)) + tuple(
            str(v) for v in san.get_values_for_type(x509.IPAddress)
        )
    except x509.ExtensionNotFound:
        sans = ()
    return CertInfo(
        cert.subject.rfc4514_string(),
        cert.issuer.rfc4514_string(),
        cert.not_valid_before_utc,
        cert.not_valid_after_utc,
        is_ca,
        usages,
        sans,
    )


def check_validity(pem: bytes | x509.Certificate, now: Clock = utcnow) -> CertInfo:
    """Raise :class:`CertificateExpired` / :class:`CertificateNotYetValid` unless valid at ``now()``."""
    info = describe(pem)
    at = now()
    if at >= info.not_after:
        raise CertificateExpired(
            f"client certificate {info.subject} expired at {info.not_after:%Y-%m-%d %H:%M:%S} UTC "
            f"(now {at:%Y-%m-%d %H:%M:%S} UTC): issue a new one (CSR API) and update the kubeconfig"
        )
    if at < info.not_before:
        raise CertificateNotYetValid(
            f"client certificate {info.subject} is valid only from {info.not_before:%Y-%m-%d %H:%M:%S} UTC "
            f"(now {at:%Y-%m-%d %H:%M:%S} UTC): check this machine's clock"
        )
    return info


# kubeadm's PKI, as /etc/kubernetes/pki on a control-plane node holds it: file -> what it is for
KUBEADM_PKI: dict[str, str] = {
    "ca.crt": "cluster CA: signs the API server's serving cert, kubelets' and users' client certs (CSR API)",
    "apiserver.crt": "API server's serving certificate (SANs: service IP, node IP, names)",
    "apiserver-kubelet-client.crt": "API server -> kubelet client certificate (logs, exec)",
    "front-proxy-ca.crt": "front-proxy CA: the aggregation layer's own trust root",
    "front-proxy-client.crt": "API server -> aggregated API servers (X-Remote-User headers)",
    "etcd/ca.crt": "etcd CA: a separate trust root for etcd only",
    "etcd/server.crt": "etcd's serving certificate",
    "etcd/peer.crt": "etcd member <-> member",
    "etcd/healthcheck-client.crt": "the etcd pod's liveness probe client",
    "apiserver-etcd-client.crt": "API server -> etcd client certificate",
}


@dataclass(frozen=True)
class PkiEntry:
    path: str
    purpose: str
    info: CertInfo


def read_node_pki(node: str, docker: str = "docker", base: str = "/etc/kubernetes/pki") -> list[PkiEntry]:
    """Read kubeadm's certificates from a kind node container (``docker exec NODE cat``); keys stay there."""
    entries = []
    for rel, purpose in KUBEADM_PKI.items():
        proc = subprocess.run(
            [docker, "exec", node, "cat", f"{base}/{rel}"], capture_output=True, timeout=30, check=False
        )
        if proc.returncode != 0:
            raise CertificateError(f"cannot read {base}/{rel} on {node}: {proc.stderr.decode().strip()}")
        entries.append(PkiEntry(rel, purpose, describe(proc.stdout)))
    return entries


def read_node_file(node: str, path: str, docker: str = "docker") -> bytes:
    proc = subprocess.run([docker, "exec", node, "cat", path], capture_output=True, timeout=30, check=False)
    if proc.returncode != 0:
        raise CertificateError(f"cannot read {path} on {node}: {proc.stderr.decode().strip()}")
    return proc.stdout
