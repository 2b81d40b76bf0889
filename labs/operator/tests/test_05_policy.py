"""Checkpoint 13 (book 3.3.3): the same validation as a ValidatingAdmissionPolicy, side by side
with the webhook."""

from __future__ import annotations

import pytest

from kubelab_cluster.kind.kubectl import Kubectl

from .operatorlab import create, cronjob, get

CASES = {
    # case: (name, schedule, refused by the webhook, refused by the policy, message fragment both give)
    "valid": ("fine", "*/5 * * * *", False, False, ""),
    "five fields": ("bad-fields", "invalid-cron-schedule", True, True, "Expected exactly 5 fields, found 1"),
    "long name": ("l" * 53, "*/5 * * * *", True, True, "must be no more than 52 characters"),
    "bad descriptor": ("bad-desc", "@sometimes", True, True, "unrecognized descriptor: @sometimes"),
    # CEL checks each field's characters, not its range: only the webhook (croniter) knows minute < 60
    "out of range": ("range", "99 * * * *", True, False, "invalid cron schedule: 99 * * * *"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_13_webhook_and_policy_agree(
    kubectl: Kubectl, namespace: str, policy_namespace: str, operator: str, case: str
) -> None:
    """The same CronJob in the webhook's namespace and in the policy's: both refuse what the tutorial's
    rules refuse, with the same field and message; the one difference (a field's range) is shown.

    Hint (3.3.3): components/operator/deploy/policy.yaml (CEL); `kubectl get validatingadmissionpolicy`;
    a policy refusal reads "ValidatingAdmissionPolicy 'kubelab-cronjob-policy' with binding ... denied request".
    """
    name, schedule, by_webhook, by_policy, message = CASES[case]
    webhook = create(kubectl, cronjob(name, namespace, operator, schedule, suspend=True))
    policy = create(kubectl, cronjob(name, policy_namespace, operator, schedule, suspend=True))
    assert webhook.ok is not by_webhook, f"webhook: {webhook.err or 'created'}"
    assert policy.ok is not by_policy, f"policy: {policy.err or 'created'}"
    if by_webhook:
        assert f'The CronJob "{name}" is invalid' in webhook.err and message in webhook.err, webhook.err
        assert get(kubectl, name, namespace) is None
    if by_policy:
        assert "ValidatingAdmissionPolicy 'kubelab-cronjob-policy'" in policy.err and message in policy.err, policy.err
        assert get(kubectl, name, policy_namespace) is None
