"""What the cluster tells an extension server about authentication: the ConfigMap
``kube-system/extension-apiserver-authentication`` that kube-apiserver keeps (client CA, the
requestheader CA, allowed proxy names and header names). Read once to start, then followed
through the Chapter 2 informer, so a rotated CA is picked up without a restart.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from kubelab_apiserver.auth.requestheader import RequestHeaderConfig
from kubelab_apiserver.auth.x509 import load_bundle
from kubelab_client.informer import HandlerFuncs, SharedInformer
from kubelab_client.kube import Api
from kubelab_client.listwatch import ListWatch
from kubelab_client.resources import CONFIGMAPS
from kubelab_kit.errors import KubelabError

log = logging.getLogger(__name__)
NAMESPACE, NAME = "kube-system", "extension-apiserver-authentication"


class DelegationError(KubelabError):
    area = "authentication"


@dataclass
class Delegation:
    client_cas: list[x509.Certificate] = field(default_factory=list)
    client_ca_pem: bytes = b""
    requestheader: RequestHeaderConfig = field(default_factory=RequestHeaderConfig)
    requestheader_ca_pem: bytes = b""

    @property
    def ca_bundle(self) -> bytes:
        """Every CA a peer certificate may come from (the TLS layer asks for one, we sort it out)."""
        return self.client_ca_pem + b"\n" + self.requestheader_ca_pem

    @classmethod
    def from_pems(
        cls, client_ca: bytes, requestheader_ca: bytes = b"", allowed_names: list[str] | None = None
    ) -> Delegation:
        config = RequestHeaderConfig(cas=load_bundle(requestheader_ca), allowed_names=list(allowed_names or []))
        return cls(load_bundle(client_ca), client_ca, config, requestheader_ca)

    @classmethod
    def from_configmap(cls, configmap: dict[str, Any]) -> Delegation:
        data = configmap.get("data") or {}

        def names(key: str, default: list[str]) -> list[str]:
            raw = data.get(key)
            return list(json.loads(raw)) if raw else default

        client_ca = str(data.get("client-ca-file", "")).encode()
        proxy_ca = str(data.get("requestheader-client-ca-file", "")).encode()
        config = RequestHeaderConfig(
            cas=load_bundle(proxy_ca),
            allowed_names=names("requestheader-allowed-names", []),
            username_headers=names("requestheader-username-headers", ["X-Remote-User"]),
            uid_headers=names("requestheader-uid-headers", ["X-Remote-Uid"]),
            group_headers=names("requestheader-group-headers", ["X-Remote-Group"]),
            extra_prefixes=names("requestheader-extra-headers-prefix", ["X-Remote-Extra-"]),
        )
        return cls(load_bundle(client_ca), client_ca, config, proxy_ca)


class DelegationSource:
    """The current :class:`Delegation`, kept up to date from the cluster; ``on_change`` runs after each change."""

    def __init__(self, api: Api, on_change: Callable[[Delegation], None] | None = None) -> None:
        self.current = Delegation()
        self.on_change = on_change
        self._read = threading.Event()
        lw = ListWatch(api, CONFIGMAPS, namespace=NAMESPACE, field_selector=f"metadata.name={NAME}")
        self.informer = SharedInformer(lw, name="extension-apiserver-authentication")
        self.informer.add_event_handler(HandlerFuncs(add=self._set, update=lambda _old, new: self._set(new)))

    def _set(self, configmap: dict[str, Any]) -> None:
        try:
            self.current = Delegation.from_configmap(configmap)
        except (ValueError, TypeError) as exc:
            log.error("%s/%s is unusable, keeping the previous one: %s", NAMESPACE, NAME, exc)
            return
        log.info(
            "authentication: %d client CA(s), %d requestheader CA(s), allowed proxy names %s",
            len(self.current.client_cas),
            len(self.current.requestheader.cas),
            self.current.requestheader.allowed_names or "(any)",
        )
        if self.on_change is not None:
            self.on_change(self.current)
        self._read.set()

    def start(self, stop: threading.Event, timeout: float = 60.0) -> None:
        """Follow the ConfigMap; returns once it has been read (a :class:`DelegationError` if not in time)."""
        self.informer.start(stop)
        if not self._read.wait(timeout):
            raise DelegationError(
                f"{NAMESPACE}/{NAME}: not read within {timeout:g} s (RBAC: the Role "
                "extension-apiserver-authentication-reader must be bound to this server)"
            )
