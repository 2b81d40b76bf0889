"""A user certificate through the ``CertificateSigningRequest`` API (certificates.k8s.io/v1).

1. Generate a key locally; it never leaves this machine. Build a CSR: ``CN=user, O=groups``.
2. ``POST`` a ``CertificateSigningRequest`` with the PEM CSR, ``signerName:
   kubernetes.io/kube-apiserver-client`` (client certificates the API server trusts) and
   ``usages: [client auth]``; ``expirationSeconds`` asks for a lifetime (minimum 600).
3. Someone allowed to ``approve`` that signer (here: the admin) adds an ``Approved``
   condition through the ``/approval`` subresource.
4. kube-controller-manager's ``csrsigning`` controller signs it with the cluster CA
   (kubeadm: ``--cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt``) and puts the
   certificate in ``status.certificate``; wait for it (``Denied``/``Failed`` end the wait).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Sequence
from dataclasses import dataclass

from kubelab_client.certs.pki import describe, key_pem, new_csr, new_key
from kubelab_client.errors import ApiError, ClientError
from kubelab_client.kube import Api
from kubelab_client.objects import KubeObject
from kubelab_client.resources import Resource

CSRS = Resource("certificates.k8s.io", "v1", "certificatesigningrequests", "CertificateSigningRequest", False)
CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client"


class CSRError(ClientError):
    pass


@dataclass(frozen=True)
class IssuedCertificate:
    user: str
    groups: tuple[str, ...]
    csr_name: str
    key_pem: bytes
    cert_pem: bytes


def csr_object(
    name: str, request_pem: bytes, *, signer: str = CLIENT_SIGNER, expiration_seconds: int | None = None
) -> KubeObject:
    spec: KubeObject = {
        "request": base64.b64encode(request_pem).decode(),
        "signerName": signer,
        "usages": ["digital signature", "client auth"],
    }
    if expiration_seconds is not None:
        spec["expirationSeconds"] = expiration_seconds
    return {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "kube-dev-lab"}},
        "spec": spec,
    }


def approve(api: Api, name: str, reason: str = "KubelabApprove", message: str = "approved by the lab") -> KubeObject:
    """Add the ``Approved`` condition (``PUT .../NAME/approval``); needs ``approve`` on the signer."""
    csr = api.get(CSRS, name)
    conditions = csr.setdefault("status", {}).setdefault("conditions", [])
    conditions.append({"type": "Approved", "status": "True", "reason": reason, "message": message})
    return api.request("PUT", CSRS.object_path(name) + "/approval", body=csr)


def wait_for_certificate(api: Api, name: str, timeout: float = 60.0, poll: float = 0.2) -> bytes:
    """The signed PEM certificate from ``status.certificate``; raises on Denied/Failed or timeout."""
    deadline = time.monotonic() + timeout
    while True:
        csr = api.get(CSRS, name)
        status = csr.get("status") or {}
        for cond in status.get("conditions") or []:
            if cond.get("type") in ("Denied", "Failed") and cond.get("status") == "True":
                raise CSRError(f"CSR {name} {cond['type']}: {cond.get('reason')}: {cond.get('message')}")
        if status.get("certificate"):
            return base64.b64decode(status["certificate"])
        if time.monotonic() > deadline:
            raise CSRError(
                f"CSR {name} not signed after {timeout:.0f} s (conditions: {status.get('conditions')}): is "
                "kube-controller-manager running with --cluster-signing-cert-file/--cluster-signing-key-file?"
            )
        time.sleep(poll)


def issue_user_certificate(
    api: Api,
    user: str,
    groups: Sequence[str] = (),
    *,
    csr_name: str | None = None,
    expiration_seconds: int | None = 3600,
    timeout: float = 60.0,
    keep_csr: bool = False,
) -> IssuedCertificate:
    """Steps 1-4 above, as the admin ``api``; deletes the CSR object afterwards unless ``keep_csr``."""
    key = new_key()
    name = csr_name or f"kubelab-{user}"
    try:
        api.delete(CSRS, name)
    except ApiError as exc:
        if not exc.is_not_found:
            raise
    api.create(CSRS, csr_object(name, new_csr(key, user, groups), expiration_seconds=expiration_seconds))
    try:
        approve(api, name)
        cert = wait_for_certificate(api, name, timeout)
    finally:
        if not keep_csr:
            try:
                api.delete(CSRS, name)
            except ApiError as exc:
                if not exc.is_not_found:
                    raise
    info = describe(cert)
    if info.user != user:
        raise CSRError(f"the signed certificate is for {info.subject}, not CN={user}")
    return IssuedCertificate(user, tuple(groups), name, key_pem(key), cert)
