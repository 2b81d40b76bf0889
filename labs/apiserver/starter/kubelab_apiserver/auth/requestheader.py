"""STARTER (chapter 7.4): one TODO below, marked ``TODO(7.4)``. Everything else works.

The front proxy's headers (``X-Remote-User`` and friends), trusted only from the front proxy.

kube-apiserver's aggregator authenticates the user, then calls this server with its front-proxy
client certificate and the user in headers. The headers are believed only if the peer certificate
was signed by the **requestheader** CA (not the client CA: any user with a client certificate
could otherwise claim ``system:masters``), may authenticate a client, and its CN is one of the
allowed names (an empty list allows any). The header names come from the cluster's
``extension-apiserver-authentication`` ConfigMap. Extra keys are lowercased and %-unescaped.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509

from kubelab_apiserver.auth import x509 as certs
from kubelab_apiserver.auth.user import AUTHENTICATED, User

Headers = Sequence[tuple[str, str]]  # (lowercased name, value), repeated names kept


@dataclass
class RequestHeaderConfig:
    cas: list[x509.Certificate] = field(default_factory=list)
    allowed_names: list[str] = field(default_factory=list)
    username_headers: list[str] = field(default_factory=lambda: ["X-Remote-User"])
    uid_headers: list[str] = field(default_factory=lambda: ["X-Remote-Uid"])
    group_headers: list[str] = field(default_factory=lambda: ["X-Remote-Group"])
    extra_prefixes: list[str] = field(default_factory=lambda: ["X-Remote-Extra-"])

    def all_headers(self) -> list[str]:
        return [h.lower() for h in self.username_headers + self.uid_headers + self.group_headers]


def trusted_proxy(der: bytes | None, config: RequestHeaderConfig) -> str:
    """Empty if the peer is a front proxy whose headers may be believed, else why not."""
    if der is None:
        return "no client certificate"
    # TODO(7.4): this trusts any client with any certificate, so anyone holding a certificate the
    # cluster signed can send "X-Remote-Group: system:masters". Believe the headers only when the
    # certificate (x509.load_der_x509_certificate(der)) was signed by one of config.cas, the
    # REQUESTHEADER CA (certs.issued_by), may be used now for client authentication
    # (certs.why_unusable) and, if config.allowed_names is not empty, names one of them
    # (certs.common_name). Return why not, or "".
    return ""


def _values(headers: Headers, names: list[str]) -> list[str]:
    wanted = [n.lower() for n in names]
    return [v for k, v in headers if k in wanted]


def authenticate(der: bytes | None, headers: Headers, config: RequestHeaderConfig) -> User | None:
    if trusted_proxy(der, config):
        return None
    names = _values(headers, config.username_headers)
    if not names or not names[0]:
        return None
    uid = next(iter(_values(headers, config.uid_headers)), "")
    groups = [g for g in _values(headers, config.group_headers) if g]
    extra: dict[str, list[str]] = {}
    prefixes = [p.lower() for p in config.extra_prefixes]
    for key, value in headers:
        for prefix in prefixes:
            if key.startswith(prefix):
                extra.setdefault(urllib.parse.unquote(key[len(prefix) :]).lower(), []).append(value)
    if AUTHENTICATED not in groups:
        groups.append(AUTHENTICATED)
    return User(names[0], uid, tuple(groups), {k: tuple(v) for k, v in extra.items()}, via="requestheader")


def is_identity_header(name: str, config: RequestHeaderConfig) -> bool:
    """Headers to strip after authentication, so nothing downstream trusts a client's copy."""
    lowered = name.lower()
    return lowered in config.all_headers() or any(lowered.startswith(p.lower()) for p in config.extra_prefixes)
