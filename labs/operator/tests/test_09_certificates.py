"""Checkpoint 18 (book 3.3.3): the operator's own certificates: injected, and rotated on request."""

from __future__ import annotations

import base64

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.waiting import eventually
from kubelab_operator import deployment
from kubelab_operator.api.resource import CRONJOB

from .operatorlab import SYSTEM_NS, create, cronjob


def ca_bundles(kubectl: Kubectl) -> set[str]:
    found = set()
    for kind, name in (("mutatingwebhookconfiguration", deployment.MUTATING_WEBHOOK),
                       ("validatingwebhookconfiguration", deployment.VALIDATING_WEBHOOK)):  # fmt: skip
        for hook in kubectl.json("get", kind, name)["webhooks"]:
            found.add(hook["clientConfig"].get("caBundle", ""))
    crd = kubectl.json("get", "crd", CRONJOB.name)
    found.add(crd["spec"]["conversion"]["webhook"]["clientConfig"].get("caBundle", ""))
    return found


def test_18_rotation(kubectl: Kubectl, namespace: str, operator: str) -> None:
    """The same CA bundle is in both webhook configurations and the CRD; annotating the Secret with
    kubelab.dev/rotate makes a new CA and certificate, injected everywhere (old CA kept in the bundle
    while replicas switch), and the webhooks keep answering.

    Hint (3.3.3): kubelab_operator/webhooks/certs.py (CertManager.sync every 10 s) and server.py
    (reloads the files into the live SSLContext).
    """
    (before,) = ca_bundles(kubectl)
    assert before, "no caBundle injected"
    secret = kubectl.json("-n", SYSTEM_NS, "get", "secret", deployment.TLS_SECRET)
    old_ca = base64.b64decode(secret["data"]["ca.crt"])
    kubectl.run(
        "-n", SYSTEM_NS, "annotate", "--overwrite", "secret", deployment.TLS_SECRET, "kubelab.dev/rotate=lab-run"
    )
    kubectl.run("-n", SYSTEM_NS, "annotate", "--overwrite", "secret", deployment.TLS_SECRET,
                f"kubelab.dev/rotate=lab-{secret['metadata']['resourceVersion']}")  # fmt: skip

    def rotated() -> str:
        bundles = ca_bundles(kubectl)
        assert len(bundles) == 1 and bundles != {before}, "not rotated (or not everywhere) yet"
        return next(iter(bundles))

    after = eventually(rotated, timeout=40, interval=1, what="a new CA bundle everywhere")
    decoded = base64.b64decode(after)
    assert old_ca in decoded and decoded.count(b"BEGIN CERTIFICATE") == 2

    def answers() -> bool:
        got = create(kubectl, cronjob("after-rotation", namespace, operator, "*/5 * * * *"), "--dry-run=server")
        assert got.ok, got.err
        return True

    eventually(answers, timeout=40, interval=2, what="the webhooks to answer with the new certificate")
