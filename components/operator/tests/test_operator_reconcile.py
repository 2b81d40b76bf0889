"""The reconcile, table by table, with a fake clock: what the tutorial's Reconcile does for
each state of the CronJob and its Jobs (no API server: the plan is checked)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubelab_client.objects import format_time
from kubelab_operator.api.resource import SCHEDULED_AT
from kubelab_operator.controller.conditions import get_condition
from kubelab_operator.controller.reconcile import reconcile

T0 = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)


def cronjob(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch.kubelab.dev/v1",
        "kind": "CronJob",
        "metadata": {
            "name": "tick",
            "namespace": "ns",
            "uid": "u-1",
            "generation": 2,
            "creationTimestamp": format_time(T0),
        },
        "spec": {"schedule": "*/1 * * * *", "jobTemplate": {"spec": {"template": {}}}, **spec},
    }


def job(minute: int, state: str | None = None, started: int | None = None, name: str | None = None) -> dict[str, Any]:
    when = T0 + timedelta(minutes=minute)
    status: dict[str, Any] = {}
    if state:
        status["conditions"] = [{"type": state, "status": "True"}]
    if started is not None:
        status["startTime"] = format_time(T0 + timedelta(minutes=started))
    return {
        "metadata": {
            "name": name or f"tick-{int(when.timestamp())}",
            "namespace": "ns",
            "uid": f"j{minute}",
            "annotations": {SCHEDULED_AT: format_time(when)},
        },
        "status": status,
    }


def now(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def reason(plan_status: dict[str, Any], type_: str) -> tuple[str, str] | None:
    cond = get_condition(plan_status["conditions"], type_)
    return (cond["status"], cond["reason"]) if cond else None


def test_first_run_creates_the_job_of_the_missed_minute_and_wakes_at_the_next() -> None:
    plan = reconcile(cronjob(), [], now(1.5))
    assert plan.create is not None
    meta = plan.create["metadata"]
    assert meta["name"] == f"tick-{int(now(1).timestamp())}"
    assert meta["annotations"][SCHEDULED_AT] == "2026-12-01T10:01:00Z"
    (owner,) = meta["ownerReferences"]
    assert owner == {
        "apiVersion": "batch.kubelab.dev/v1",
        "kind": "CronJob",
        "name": "tick",
        "uid": "u-1",
        "controller": True,
        "blockOwnerDeletion": True,
    }
    assert plan.requeue_after == pytest.approx(30.0)
    assert reason(plan.status, "Available") == ("True", "AllJobsCompleted")


def test_nothing_due_before_the_first_run() -> None:
    plan = reconcile(cronjob(), [], now(0.5))
    assert plan.create is None and plan.requeue_after == pytest.approx(30.0)


def test_status_rebuilt_from_the_jobs() -> None:
    jobs = [job(1, "Complete", 1), job(2), job(3, "Failed", 3)]
    plan = reconcile(cronjob(), jobs, now(3.2))
    assert plan.status["lastScheduleTime"] == "2026-12-01T10:03:00Z"
    assert [r["name"] for r in plan.status["active"]] == [jobs[1]["metadata"]["name"]]
    assert reason(plan.status, "Degraded") == ("True", "JobsFailed")
    assert reason(plan.status, "Available") == ("False", "JobsFailed")


def test_active_jobs_mean_progressing() -> None:
    plan = reconcile(cronjob(), [job(1)], now(1.2))
    assert reason(plan.status, "Progressing") == ("True", "JobsActive")
    assert reason(plan.status, "Available") == ("True", "JobsActive")
    assert "active" in plan.status and plan.create is None  # the 10:01 run exists; 10:02 not due


@pytest.mark.parametrize(
    ("policy", "create", "deleted"),
    [("Allow", True, []), ("Forbid", False, []), ("Replace", True, ["old"])],
)
def test_concurrency_policies(policy: str, create: bool, deleted: list[str]) -> None:
    plan = reconcile(cronjob(concurrencyPolicy=policy), [job(1, name="old")], now(2.1))
    assert (plan.create is not None) is create
    assert [name for name, _ in plan.delete] == deleted


def test_suspend_stops_new_runs_and_says_so() -> None:
    plan = reconcile(cronjob(suspend=True), [], now(5))
    assert plan.create is None and plan.requeue_after is None
    assert reason(plan.status, "Available") == ("False", "Suspended")


def test_history_limits_prune_the_oldest_by_start_time() -> None:
    done = [job(m, "Complete", started=m) for m in (3, 1, 2)]
    failed = [job(m, "Failed", started=m) for m in (4, 5)]
    plan = reconcile(cronjob(successfulJobsHistoryLimit=1, failedJobsHistoryLimit=1), done + failed, now(5.5))
    pruned = sorted(name for name, _ in plan.delete)
    expected = sorted(j["metadata"]["name"] for j in (done[1], done[2], failed[0]))
    assert pruned == expected


def test_no_limit_no_pruning() -> None:
    plan = reconcile(cronjob(), [job(m, "Complete", m) for m in range(1, 6)], now(5.5))
    assert plan.delete == []


def test_invalid_schedule_is_degraded_without_requeue() -> None:
    plan = reconcile(cronjob(schedule="every minute"), [], now(5))
    assert reason(plan.status, "Degraded") == ("True", "InvalidSchedule")
    assert plan.requeue_after is None and plan.create is None
    cond = get_condition(plan.status["conditions"], "Degraded")
    assert cond is not None and "Expected exactly 5 fields, found 2" in cond["message"]


def test_too_many_missed_runs_is_reported() -> None:
    plan = reconcile(cronjob(), [], now(200))
    assert reason(plan.status, "Degraded") == ("True", "TooManyMissedRuns")
    assert plan.create is None


def test_deadline_clamp_starts_the_latest_run_only() -> None:
    plan = reconcile(cronjob(startingDeadlineSeconds=90), [], now(200.5))
    assert plan.create is not None
    assert plan.create["metadata"]["annotations"][SCHEDULED_AT] == format_time(now(200))


def test_a_run_older_than_its_deadline_is_not_started() -> None:
    # at 10:05:30 the 10:05 run is 30 s old: past a 10 s deadline (skipped, next at 10:06), within a 40 s one
    plan = reconcile(cronjob(startingDeadlineSeconds=10), [], now(5.5))
    assert plan.create is None and plan.requeue_after == pytest.approx(30.0)
    plan = reconcile(cronjob(startingDeadlineSeconds=40), [], now(5.5))
    assert plan.create is not None
    assert plan.create["metadata"]["annotations"][SCHEDULED_AT] == format_time(now(5))


def test_transition_time_kept_while_status_unchanged() -> None:
    first = reconcile(cronjob(), [], now(0.5))
    obj = cronjob()
    obj["status"] = first.status
    later = reconcile(obj, [], now(0.7))
    a = get_condition(first.status["conditions"], "Available")
    b = get_condition(later.status["conditions"], "Available")
    assert a is not None and b is not None and a["lastTransitionTime"] == b["lastTransitionTime"]


def test_jobs_being_deleted_are_not_counted() -> None:
    gone = job(1)
    gone["metadata"]["deletionTimestamp"] = format_time(now(1))
    plan = reconcile(cronjob(), [gone], now(1.2))
    assert "active" not in plan.status
