"""The webhook's certificates, made, injected and rotated by the operator itself (what
cert-manager or controller-runtime's cert-rotator do; no such image can be pulled here).

* A Secret (``kubelab-operator-webhook-tls``) holds a CA, a serving certificate for the
  webhook Service's DNS names signed by it, and ``ca-bundle.crt``: the current CA plus the
  previous one while certificates it signed may still be served.
* Every replica runs :meth:`CertManager.sync`: make the Secret if it is missing or unusable,
  rotate it when the serving certificate has less than a third of its life left or when
  rotation is requested (the annotation ``kubelab.dev/rotate`` differs from the one the last
  rotation recorded), write the files to the certificate directory (the server reloads
  them), and put ``ca-bundle.crt`` into the webhook configurations' and the CRD's
  ``caBundle``. Writes are compare-and-swap on ``resourceVersion``: two replicas rotating at
  once make one new certificate, the other reads it.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from kubelab_client.certs import pki
from kubelab_client.errors import ApiError, ClientError
from kubelab_client.kube import Api
from kubelab_client.resources import SECRETS, Resource
from kubelab_kit.files import atomic_write
from kubelab_operator import deployment
from kubelab_operator.api.resource import CRONJOB

log = logging.getLogger(__name__)
ADMISSION = "admissionregistration.k8s.io"
MUTATING = Resource(ADMISSION, "v1", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", False)
VALIDATING = Resource(ADMISSION, "v1", "validatingwebhookconfigurations", "ValidatingWebhookConfiguration", False)
CRDS = Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", False)
ROTATE_ANNOTATION = "kubelab.dev/rotate"
ROTATED_FOR = "kubelab.dev/rotated-for"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass(frozen=True)
class Bundle:
    ca_pem: bytes
    ca_key_pem: bytes
    cert_pem: bytes
    key_pem: bytes
    ca_bundle: bytes

    def files(self) -> dict[str, bytes]:
        return {"tls.crt": self.cert_pem, "tls.key": self.key_pem, "ca.crt": self.ca_bundle}

    def secret_data(self) -> dict[str, str]:
        return {
            "ca.crt": _b64(self.ca_pem),
            "ca.key": _b64(self.ca_key_pem),
            "tls.crt": _b64(self.cert_pem),
            "tls.key": _b64(self.key_pem),
            "ca-bundle.crt": _b64(self.ca_bundle),
        }

    @classmethod
    def from_secret(cls, secret: dict[str, Any]) -> Bundle:
        data = {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}
        return cls(
            data["ca.crt"], data["ca.key"], data["tls.crt"], data["tls.key"], data.get("ca-bundle.crt", data["ca.crt"])
        )


def issue(dns_names: list[str], validity: dt.timedelta, previous_ca: bytes | None = None) -> Bundle:
    """A new CA and a serving certificate for ``dns_names`` signed by it."""
    now = pki.utcnow() - dt.timedelta(minutes=1)
    ca_key = pki.new_key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{deployment.NAME}-webhook-ca")])
    ca = pki.sign(ca_key, ca_name, not_before=now, not_after=now + validity * 2, is_ca=True, client=False)
    key = pki.new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_names[0][:64])])
    cert = pki.sign(
        key, name, issuer=(ca, ca_key), not_before=now, not_after=now + validity, client=False, dns_names=dns_names
    )
    ca_pem = pki.cert_pem(ca)
    bundle = ca_pem + (previous_ca or b"")
    return Bundle(ca_pem, pki.key_pem(ca_key), pki.cert_pem(cert), pki.key_pem(key), bundle)


def needs_rotation(bundle: Bundle, dns_names: list[str], now: dt.datetime, validity: dt.timedelta) -> str | None:
    """Why this bundle must be replaced, or None."""
    try:
        cert = pki.load_cert(bundle.cert_pem)
        pki.load_key(bundle.key_pem)
    except pki.CertificateError as exc:
        return f"unreadable: {exc}"
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    if sorted(sans) != sorted(dns_names):
        return f"names {sorted(sans)} are not {sorted(dns_names)}"
    life = cert.not_valid_after_utc - cert.not_valid_before_utc
    if cert.not_valid_after_utc - now < min(life, validity) / 3:
        return f"expires at {cert.not_valid_after_utc.isoformat()}"
    return None


class CertManager:
    def __init__(
        self,
        api: Api,
        cert_dir: Path,
        *,
        namespace: str = deployment.NAMESPACE,
        validity: dt.timedelta = dt.timedelta(days=90),
        interval: float = 10.0,
    ) -> None:
        self.api = api
        self.cert_dir = cert_dir
        self.namespace = namespace
        self.validity = validity
        self.interval = interval
        self.dns_names = [
            f"{deployment.SERVICE}.{namespace}.svc",
            f"{deployment.SERVICE}.{namespace}.svc.cluster.local",
        ]

    # the Secret ---------------------------------------------------------------------------
    def _new_secret(self, bundle: Bundle, rotated_for: str) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/tls",
            "metadata": {
                "name": deployment.TLS_SECRET,
                "namespace": self.namespace,
                "annotations": {ROTATED_FOR: rotated_for},
            },
            "data": bundle.secret_data(),
        }

    def current(self) -> Bundle:
        """The Secret's bundle, made or rotated first when it has to be."""
        try:
            secret = self.api.get(SECRETS, deployment.TLS_SECRET, self.namespace)
        except ApiError as exc:
            if not exc.is_not_found:
                raise
            first = issue(self.dns_names, self.validity)
            try:
                self.api.create(SECRETS, self._new_secret(first, ""), self.namespace)
                log.info("certificates: made a CA and a serving certificate for %s", ", ".join(self.dns_names))
                return first
            except ApiError as exc2:
                if not exc2.is_conflict:
                    raise
                secret = self.api.get(SECRETS, deployment.TLS_SECRET, self.namespace)  # another replica won
        annotations = secret.get("metadata", {}).get("annotations") or {}
        requested = annotations.get(ROTATE_ANNOTATION, "")
        bundle: Bundle | None = None
        try:
            bundle = Bundle.from_secret(secret)
            why = needs_rotation(bundle, self.dns_names, pki.utcnow(), self.validity)
        except (KeyError, ValueError) as exc:
            why = f"incomplete: {exc}"
        if why is None and requested and requested != annotations.get(ROTATED_FOR, ""):
            why = f"rotation requested ({ROTATE_ANNOTATION}={requested})"
        if why is None and bundle is not None:
            return bundle
        fresh = issue(self.dns_names, self.validity, previous_ca=bundle.ca_pem if bundle else None)
        secret["data"] = fresh.secret_data()
        secret.setdefault("metadata", {}).setdefault("annotations", {})[ROTATED_FOR] = requested
        try:
            self.api.replace(SECRETS, secret)
        except ApiError as exc:
            if not exc.is_conflict:
                raise
            return Bundle.from_secret(self.api.get(SECRETS, deployment.TLS_SECRET, self.namespace))
        log.info("certificates: rotated (%s)", why)
        return fresh

    # where it goes ------------------------------------------------------------------------
    def write_files(self, bundle: Bundle) -> bool:
        changed = False
        for name, data in bundle.files().items():
            changed |= atomic_write(self.cert_dir / name, data, mode=0o600)
        return changed

    def inject(self, bundle: Bundle) -> list[str]:
        """Put the CA bundle wherever the API server calls us; returns what changed."""
        ca = _b64(bundle.ca_bundle)
        changed: list[str] = []
        for resource, name in ((MUTATING, deployment.MUTATING_WEBHOOK), (VALIDATING, deployment.VALIDATING_WEBHOOK)):
            try:
                config = self.api.get(resource, name)
            except ApiError as exc:
                if exc.is_not_found:
                    continue  # not installed (e.g. running outside the cluster)
                raise
            ops = [
                {"op": "add", "path": f"/webhooks/{i}/clientConfig/caBundle", "value": ca}
                for i, hook in enumerate(config.get("webhooks") or [])
                if hook.get("clientConfig", {}).get("caBundle") != ca
            ]
            if ops:
                self.api.patch(resource, name, ops, patch_type="json")
                changed.append(f"{resource.plural}/{name}")
        try:
            crd = self.api.get(CRDS, CRONJOB.name)
            conversion = crd["spec"].get("conversion", {})
            if conversion.get("strategy") == "Webhook" and conversion["webhook"]["clientConfig"].get("caBundle") != ca:
                ops = [{"op": "add", "path": "/spec/conversion/webhook/clientConfig/caBundle", "value": ca}]
                self.api.patch(CRDS, CRONJOB.name, ops, patch_type="json")
                changed.append(f"crd/{CRONJOB.name}")
        except ApiError as exc:
            if not exc.is_not_found:
                raise
        return changed

    def sync(self) -> Bundle:
        bundle = self.current()
        if self.write_files(bundle):
            log.info("certificates: wrote %s", self.cert_dir)
        changed = self.inject(bundle)
        if changed:
            log.info("certificates: injected the CA bundle into %s", ", ".join(changed))
        return bundle

    def keep(self, stop: threading.Event, after_sync: Callable[[], object]) -> None:
        """Sync every ``interval`` until ``stop`` (the first sync is the caller's), then ``after_sync()``
        (the server reloading the files)."""
        while not stop.wait(self.interval):
            try:
                self.sync()
                after_sync()
            except (ClientError, OSError) as exc:
                log.warning("certificates: %s (retrying in %.0f s)", exc, self.interval)
