"""Checkpoints 10-12 (book 3.2): one object, two versions, through the conversion webhook."""

from __future__ import annotations

import json

from kubelab_cluster.kind.kubectl import Kubectl

from .operatorlab import V2, create, cronjob, get, webhook_post


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


def test_12_v2_rules_descriptors_and_bad_reviews(kubectl: Kubectl, namespace: str, operator: str) -> None:
    """v2's CEL rule refuses an empty schedule object with its message; a v1 "@hourly" reads as v2
    {minute: "0"} (conversion is total: one unconvertible object would break every v2 list and the
    namespace's deletion); the webhook itself, called through the Service, answers a ConversionReview
    for an unknown version with a Failure result and a body that is not a review with a 400 Status.

    Hint (3.2, 3.3.4): the Rule marker on kubelab_operator/api/v2.py CronSchedule;
    kubelab_operator/api/conversion.py; kubelab_operator/webhooks/reviews.py.
    """
    empty = create(kubectl, cronjob("conv-empty", namespace, operator, {}, version=V2))
    assert not empty.ok and "set at least one field of the schedule" in empty.err, empty.err
    assert get(kubectl, "conv-empty", namespace) is None
    assert create(kubectl, cronjob("conv-hourly", namespace, operator, "@hourly", suspend=True)).ok
    as_v2 = get(kubectl, "conv-hourly", namespace, "v2")
    assert as_v2 is not None and as_v2["spec"]["schedule"] == {"minute": "0"}
    as_v1 = get(kubectl, "conv-hourly", namespace, "v1")
    assert as_v1 is not None and as_v1["spec"]["schedule"] == "@hourly"

    review = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
              "request": {"uid": "lab-1", "desiredAPIVersion": "batch.kubelab.dev/v9", "objects": [as_v1]}}  # fmt: skip
    answer = json.loads(webhook_post(kubectl, "/convert", review).out)
    assert answer["response"]["uid"] == "lab-1"
    assert answer["response"]["result"]["status"] == "Failure"
    assert "unsupported apiVersion 'batch.kubelab.dev/v9'" in answer["response"]["result"]["message"]
    bad = webhook_post(kubectl, "/convert", {"kind": "Pod"})
    assert not bad.ok and "is not a valid apiextensions.k8s.io/v1 ConversionReview" in bad.err, bad.err
