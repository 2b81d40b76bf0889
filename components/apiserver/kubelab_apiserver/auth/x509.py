"""Client certificates: which CA signed the peer's certificate, and whether it may be used to
authenticate a client (validity, key usage). Used twice: the front proxy's certificate must come
from the requestheader CA; a user's from the client CA.
"""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kubelab_apiserver.auth.user import AUTHENTICATED, User


def load_bundle(pem: bytes) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem) if pem.strip() else []


def issued_by(cert: x509.Certificate, cas: list[x509.Certificate]) -> x509.Certificate | None:
    """The CA of ``cas`` that signed ``cert`` (kubeadm signs client certificates directly), if any."""
    for ca in cas:
        try:
            cert.verify_directly_issued_by(ca)
            return ca
        except (ValueError, TypeError, InvalidSignature):
            continue
    return None


def why_unusable(cert: x509.Certificate, now: dt.datetime | None = None) -> str:
    """Why ``cert`` cannot authenticate a client ("" if it can)."""
    now = now or dt.datetime.now(dt.UTC)
    if now < cert.not_valid_before_utc or now > cert.not_valid_after_utc:
        return "the certificate is not valid now"
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return ""
    if ExtendedKeyUsageOID.CLIENT_AUTH not in usages and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in usages:
        return "the certificate is not for client authentication"
    return ""


def common_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def user_of(cert: x509.Certificate) -> User:
    """CN is the user, each O a group (the x509 authenticator's rule)."""
    groups = tuple(str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME))
    return User(common_name(cert), groups=(*groups, AUTHENTICATED), via="x509")


def authenticate(der: bytes | None, client_cas: list[x509.Certificate]) -> User | None:
    if der is None or not client_cas:
        return None
    cert = x509.load_der_x509_certificate(der)
    if issued_by(cert, client_cas) is None or why_unusable(cert):
        return None
    return user_of(cert)
