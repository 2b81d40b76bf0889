"""Checkpoints 3-4 (book 3.3.3): the defaulting and validating webhooks, and what the API server's
schema refuses before them; a refused object is not created."""

from __future__ import annotations

import pytest

from kubelab_cluster.kind.kubectl import Kubectl

from .operatorlab import create, cronjob, get


def test_03_defaults(kubectl: Kubectl, namespace: str, operator: str) -> None:
    """A CronJob created with none of the optional fields gets the tutorial's defaults:
    concurrencyPolicy Allow, suspend false, history limits 3 and 1.

    Hint (3.3.3): the mutating webhook answers a JSON Patch (`patchType: JSONPatch`); see
    kubelab_operator/webhooks/defaulting.py and the operator's log.
    """
    got = create(kubectl, cronjob("defaults", namespace, operator, "0 0 1 1 *"))
    assert got.ok, got.err
    obj = get(kubectl, "defaults", namespace)
    assert obj is not None
    spec = obj["spec"]
    got_defaults = {
        k: spec.get(k) for k in ("concurrencyPolicy", "suspend", "successfulJobsHistoryLimit", "failedJobsHistoryLimit")
    }
    assert got_defaults == {
        "concurrencyPolicy": "Allow",
        "suspend": False,
        "successfulJobsHistoryLimit": 3,
        "failedJobsHistoryLimit": 1,
    }


REJECTED = {
    # case: (name, schedule, extra spec, what the error must say)
    "invalid schedule": ("bad-schedule", "invalid-cron-schedule", {},
                         ['The CronJob "bad-schedule" is invalid',
                          'spec.schedule: Invalid value: "invalid-cron-schedule": Expected exactly 5 fields, found 1']),
    "name too long": ("n" * 53, "*/5 * * * *", {},
                      [f'metadata.name: Invalid value: "{"n" * 53}": must be no more than 52 characters']),
    "out of range": ("bad-minute", "99 * * * *", {}, ['spec.schedule: Invalid value: "99 * * * *"']),
    "wrong type": ("bad-type", "*/5 * * * *", {"startingDeadlineSeconds": "soon"},
                   ["spec.startingDeadlineSeconds", "must be of type integer"]),
    "below minimum": ("bad-limit", "*/5 * * * *", {"failedJobsHistoryLimit": -1},
                      ["spec.failedJobsHistoryLimit", "should be greater than or equal to 0"]),
    "bad enum": ("bad-policy", "*/5 * * * *", {"concurrencyPolicy": "Sometimes"},
                 ['spec.concurrencyPolicy: Unsupported value: "Sometimes"']),
    "unknown field": ("bad-field", "*/5 * * * *", {"colour": "blue"}, ['unknown field "spec.colour"']),
}  # fmt: skip


@pytest.mark.parametrize("case", list(REJECTED))
def test_04_rejected_with_a_reason(kubectl: Kubectl, namespace: str, operator: str, case: str) -> None:
    """Each bad CronJob is refused with the reason in the API's own words, and nothing is created:
    the webhook's 422 Invalid for the tutorial's rules, the schema's for types, bounds, enums and
    unknown fields (kubectl's strict field validation).

    Hint (3.3.3, 3.3.4): rules live in kubelab_operator/webhooks/validation.py (the webhook) and in the
    markers of kubelab_operator/api (the schema); `kubectl create -f x.yaml` shows the message.
    """
    name, schedule, extra, messages = REJECTED[case]
    got = create(kubectl, cronjob(name, namespace, operator, schedule, **extra))
    assert not got.ok, f"{case}: created"
    for message in messages:
        assert message in got.err, f"{case}: {got.err}"
    assert get(kubectl, name, namespace) is None, f"{case}: half-created"
