"""Checkpoints 10-12 (book 3.2): one object, two versions, through the conversion webhook."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl

from .operatorlab import V2, create, cronjob, get


def test_10_created_as_v1_read_as_v2(kubectl: Kubectl, namespace: str, operator: str) -> None:
    """A v1 CronJob with schedule "*/1 * * * *" reads as v2 with schedule {minute: "*/1"}, and as v1 again
    unchanged; the object is stored once (v1), whatever version is asked for.

    Hint (3.2): kubelab_operator/api/conversion.py; the CRD's spec.conversion points at the operator's
    /convert (`kubectl get crd cronjobs.batch.kubelab.dev -o jsonpath='{.spec.conversion}'`).
    """
    assert create(kubectl, cronjob("conv-v1", namespace, operator, "*/1 * * * *", suspend=True)).ok
    as_v2 = get(kubectl, "conv-v1", namespace, "v2")
    assert as_v2 is not None and as_v2["apiVersion"] == V2
    assert as_v2["spec"]["schedule"] == {"minute": "*/1"}
    as_v1 = get(kubectl, "conv-v1", namespace, "v1")
    assert as_v1 is not None and as_v1["spec"]["schedule"] == "*/1 * * * *"
    assert as_v1["metadata"]["uid"] == as_v2["metadata"]["uid"]


def test_11_created_as_v2_read_as_v1(kubectl: Kubectl, namespace: str, operator: str) -> None:
    """A v2 CronJob {minute: "5", hour: "3"} reads as v1 "5 3 * * *", gets the v1 webhooks' defaults,
    and reads back as v2 with the same meaning.

    Hint (3.2): unset v2 fields mean "*"; v1 is the hub, so the webhooks (registered for v1) see it as v1.
    """
    obj = cronjob("conv-v2", namespace, operator, {"minute": "5", "hour": "3"}, version=V2, suspend=True)
    got = create(kubectl, obj)
    assert got.ok, got.err
    as_v1 = get(kubectl, "conv-v2", namespace, "v1")
    assert as_v1 is not None and as_v1["spec"]["schedule"] == "5 3 * * *"
    assert as_v1["spec"]["successfulJobsHistoryLimit"] == 3  # the v1 defaulting webhook ran
    as_v2 = get(kubectl, "conv-v2", namespace, "v2")
    assert as_v2 is not None and as_v2["spec"]["schedule"] == {"minute": "5", "hour": "3"}


def test_12_v2_rules_and_unconvertible(kubectl: Kubectl, namespace: str, operator: str) -> None:
    """v2's own CEL rule refuses an empty schedule object with its message; a v1 "@hourly" (no field form)
    cannot be read as v2: the conversion fails with the webhook's reason, and the v1 read still works.

    Hint (3.2, 3.3.4): the Rule marker on kubelab_operator/api/v2.py CronSchedule; ConversionError in
    kubelab_operator/api/conversion.py becomes the ConversionReview's Failure result.
    """
    empty = create(kubectl, cronjob("conv-empty", namespace, operator, {}, version=V2))
    assert not empty.ok and "set at least one field of the schedule" in empty.err, empty.err
    assert get(kubectl, "conv-empty", namespace) is None
    assert create(kubectl, cronjob("conv-hourly", namespace, operator, "@hourly", suspend=True)).ok
    from .operatorlab import attempt

    read = attempt(kubectl, "-n", namespace, "get", "cronjobs.v2.batch.kubelab.dev", "conv-hourly", "-o", "json")
    assert not read.ok and "v2 needs exactly 5" in read.err, read.err
    assert get(kubectl, "conv-hourly", namespace, "v1") is not None
