"""An aggregated server for tests, alone on loopback: its own CAs (client and front proxy), a
serving certificate for 127.0.0.1, client certificates for an admin (``system:masters``), a plain
user, the front proxy and a rogue client that claims to be one, and kubeconfigs for them.

    with running_server(tmp, storage_url="sqlite://...") as s:
        s.kubeconfig("admin")   # kubectl --kubeconfig ... get books
        s.url
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from kubelab_apiserver.aggregated.app import Server
from kubelab_apiserver.aggregated.requestinfo import RequestInfo
from kubelab_apiserver.aggregated.wiring import build
from kubelab_apiserver.auth.authenticator import Authenticator
from kubelab_apiserver.auth.authorizer import Authorizer, Decision, always_allowed
from kubelab_apiserver.auth.delegation import Delegation
from kubelab_apiserver.auth.user import User
from kubelab_apiserver.serving import TLSServer
from kubelab_apiserver.storage.backends import open_storage
from kubelab_client.certs import pki
from kubelab_client.certs.kubeconfig import ClusterInfo, user_kubeconfig, write_kubeconfig
from kubelab_client.testing.etcd import free_port

PROXY_NAME = "front-proxy-client"


@dataclass
class Identity:
    cert: Path
    key: Path
    kubeconfig: Path


@dataclass
class Pki:
    root: Path
    ca_pem: bytes = b""
    proxy_ca_pem: bytes = b""
    identities: dict[str, Identity] = field(default_factory=dict)

    @classmethod
    def make(cls, root: Path, server: str) -> Pki:
        root.mkdir(parents=True, exist_ok=True)
        start = pki.utcnow() - dt.timedelta(minutes=1)
        end = start + dt.timedelta(days=1)
        ca_key, proxy_key = pki.new_key(), pki.new_key()
        ca = pki.sign(ca_key, pki.subject("kubelab-test-client-ca"), is_ca=True, not_before=start, not_after=end)
        proxy_ca = pki.sign(
            proxy_key, pki.subject("kubelab-test-front-proxy-ca"), is_ca=True, not_before=start, not_after=end
        )
        made = cls(root, pki.cert_pem(ca), pki.cert_pem(proxy_ca))
        (root / "ca.crt").write_bytes(made.ca_pem)
        serving_key = pki.new_key()
        serving = pki.sign(
            serving_key,
            pki.subject("kubelab-aggregated"),
            issuer=(ca, ca_key),
            client=False,
            server_ips=["127.0.0.1"],
            dns_names=["localhost"],
            not_before=start,
            not_after=end,
        )
        (root / "serving.crt").write_bytes(pki.cert_pem(serving))
        (root / "serving.key").write_bytes(pki.key_pem(serving_key))
        people = {
            "admin": ("kubelab-admin", ["system:masters"], (ca, ca_key)),
            "alice": ("alice", ["readers"], (ca, ca_key)),
            "proxy": (PROXY_NAME, [], (proxy_ca, proxy_key)),
            "rogue-proxy": (PROXY_NAME, [], (ca, ca_key)),  # right name, wrong CA
            "other-proxy": ("not-the-proxy", [], (proxy_ca, proxy_key)),  # right CA, name not allowed
        }
        for who, (user, groups, issuer) in people.items():
            key = pki.new_key()
            cert = pki.sign(key, pki.subject(user, groups), issuer=issuer, not_before=start, not_after=end)
            cert_path, key_path = root / f"{who}.crt", root / f"{who}.key"
            cert_path.write_bytes(pki.cert_pem(cert))
            key_path.write_bytes(pki.key_pem(key))
            config = user_kubeconfig(
                ClusterInfo("aggregated", server, made.ca_pem), user, pki.cert_pem(cert), pki.key_pem(key)
            )
            made.identities[who] = Identity(cert_path, key_path, write_kubeconfig(root / f"{who}.kubeconfig", config))
        return made


class ReadersMayRead:
    """A stand-in for RBAC in tests: masters do anything, group ``readers`` may get, list and watch,
    everyone authenticated may read discovery and OpenAPI."""

    async def authorize(self, user: User, info: RequestInfo) -> Decision:
        if (fixed := always_allowed(user, info)) is not None:
            return fixed
        if not info.is_resource:
            return Decision(not user.anonymous, "discovery is for authenticated users")
        if "readers" in user.groups and info.verb in ("get", "list", "watch"):
            return Decision(True, "readers may read")
        return Decision(False, "")


@dataclass
class Running:
    url: str
    pki: Pki
    server: Server
    tls: TLSServer

    def kubeconfig(self, who: str) -> Path:
        return self.pki.identities[who].kubeconfig


@contextmanager
def running_server(
    workdir: Path, *, storage_url: str = "sqlite://", authorizer: Authorizer | None = None, bookmark_every: float = 60.0
) -> Iterator[Running]:
    port = free_port()
    url = f"https://127.0.0.1:{port}"
    keys = Pki.make(workdir / "pki", url)
    delegation = Delegation.from_pems(keys.ca_pem, keys.proxy_ca_pem, [PROXY_NAME])
    storage = open_storage(storage_url)
    server = build(storage, Authenticator(lambda: delegation), authorizer or ReadersMayRead())
    server.bookmark_every = bookmark_every
    from kubelab_apiserver.aggregated.app import create_app

    tls = TLSServer(
        create_app(server),
        keys.root / "serving.crt",
        keys.root / "serving.key",
        delegation.ca_bundle,
        host="127.0.0.1",
        port=port,
    )
    tls.start()
    try:
        yield Running(url, keys, server, tls)
    finally:
        tls.stop()
