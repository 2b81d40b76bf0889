"""Checkpoints 16-17 (book 3.3.2, 3.3.3): the finalizer cleans up outside the object; with the operator
down a deletion waits, the webhooks fail closed, the policy keeps validating; back up, all completes."""

from __future__ import annotations

from typing import Any

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.waiting import eventually
from kubelab_operator.api.resource import FINALIZER

from .operatorlab import attempt, create, cronjob, get, registry_data, scale


def test_16_finalizer_cleans_up(kubectl: Kubectl, namespace: str, operator: str) -> None:
    """A CronJob gets the finalizer and a record in the ConfigMap kubelab-cronjob-registry (operator's
    namespace); deleting it removes the record, then the finalizer, then the object.

    Hint (3.3.2): kubelab_operator/controller/watches.py (kopf's on.delete) and controller/records.py.
    """
    assert create(kubectl, cronjob("final", namespace, operator, "0 0 1 1 *")).ok
    key = f"{namespace}.final"

    def recorded() -> dict[str, Any]:
        obj = get(kubectl, "final", namespace)
        assert obj is not None and FINALIZER in obj["metadata"].get("finalizers", []), obj and obj["metadata"]
        assert key in registry_data(kubectl)
        return obj

    eventually(recorded, timeout=20, what="the finalizer and the record")
    kubectl.run(
        "-n", namespace, "delete", "cronjob.batch.kubelab.dev", "final", "--wait=true", "--timeout=30s", timeout=40
    )
    assert get(kubectl, "final", namespace) is None
    assert key not in registry_data(kubectl)


def test_17_operator_down(kubectl: Kubectl, namespace: str, policy_namespace: str, operator: str) -> None:
    """Operator scaled to 0: a deleted CronJob waits (deletionTimestamp set, finalizer kept); creating one
    where the webhooks serve fails closed ("failed calling webhook"); in the policy's namespace the
    ValidatingAdmissionPolicy still refuses a bad schedule and admits a good one. Scaled back: the
    deletion completes and its record is gone.

    Hint (3.3.2, 3.3.3): failurePolicy Fail in components/operator/deploy/operator.yaml; the policy runs
    inside kube-apiserver. `kubectl -n kubelab-operator-system scale deploy/kubelab-operator --replicas=2`
    if a failed run left it at 0.
    """
    assert create(kubectl, cronjob("waits", namespace, operator, "0 0 1 1 *")).ok
    eventually(lambda: f"{namespace}.waits" in registry_data(kubectl), timeout=20, what="the record")
    scale(kubectl, 0)
    try:
        # as v1: v2 is kubectl's preferred version (the highest), and a v2 DELETE needs the conversion webhook
        kubectl.run("-n", namespace, "delete", "cronjobs.v1.batch.kubelab.dev", "waits", "--wait=false")
        pending = get(kubectl, "waits", namespace)
        assert pending is not None and pending["metadata"].get("deletionTimestamp"), "deleted without its finalizer"
        closed = create(kubectl, cronjob("while-down", namespace, operator, "*/5 * * * *"))
        assert not closed.ok and "failed calling webhook" in closed.err, closed.err
        bad = create(kubectl, cronjob("down-bad", policy_namespace, operator, "not a schedule"))
        assert not bad.ok and "ValidatingAdmissionPolicy" in bad.err and "Expected exactly 5 fields" in bad.err, bad.err
        good = create(kubectl, cronjob("down-good", policy_namespace, operator, "*/5 * * * *", suspend=True))
        assert good.ok, good.err
    finally:
        scale(kubectl, 2)
    eventually(lambda: get(kubectl, "waits", namespace) is None, timeout=60, what="the deletion to complete")
    assert f"{namespace}.waits" not in registry_data(kubectl)
    assert attempt(kubectl, "-n", policy_namespace, "delete", "cronjobs.v1.batch.kubelab.dev", "down-good").ok
