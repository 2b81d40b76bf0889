"""Checkpoints 5-9 (book 3.1, 3.3.6): Jobs on schedule, the concurrency policies, suspend, history
limits and the status rebuilt from the Jobs; five CronJobs share the same two minutes."""

from __future__ import annotations

from typing import Any

import pytest

from kubelab_client.objects import parse_time
from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.waiting import eventually

from .operatorlab import condition, get, jobs_of, scheduled_at


def _unix(iso: str) -> int:
    when = parse_time(iso)
    assert when is not None, "no scheduled-at annotation"
    return int(when.timestamp())


def test_05_jobs_on_schedule(kubectl: Kubectl, namespace: str, scheduled: dict[str, Any]) -> None:
    """`twice` (schedule "M1,M2 * * * *") got a Job for each run, named <cronjob>-<unix time of the run>, with the
    scheduled-at annotation and the CronJob as controlling owner.

    Hint (3.1): missed-run computation is kubelab_operator/schedule.py (missed_and_next); Job
    construction kubelab_operator/controller/jobs.py; `kubectl -n kubelab-operator-lab get jobs`.
    """
    cj = get(kubectl, "twice", namespace)
    assert cj is not None
    jobs = eventually(lambda: jobs_of(kubectl, namespace, "twice"), timeout=30, what="a Job")
    for job in jobs:
        when = scheduled_at(job)
        assert when, job["metadata"]
        assert job["metadata"]["name"] == f"twice-{_unix(when)}"
        assert _unix(when) % 60 == 0
        (owner,) = job["metadata"]["ownerReferences"]
        assert owner["kind"] == "CronJob" and owner["uid"] == cj["metadata"]["uid"] and owner["controller"] is True
    assert {_unix(scheduled_at(j)) for j in jobs} <= set(scheduled["runs"])


POLICIES = {
    # name: (Jobs that must exist after two runs, which runs they are for)
    "allow": (2, "both runs, side by side"),
    "forbid": (1, "the first run only: the second was skipped while the first ran"),
    "replace": (1, "the second run only: the first was deleted for it"),
}


@pytest.mark.parametrize("name", list(POLICIES))
def test_06_concurrency_policy(kubectl: Kubectl, namespace: str, scheduled: dict[str, Any], name: str) -> None:
    """With Jobs that outlast a minute: Allow runs both, Forbid skips the second, Replace swaps the first
    for the second.

    Hint (3.1): the concurrency branch of kubelab_operator/controller/reconcile.py; the operator logs
    "concurrency policy Forbid ... skipping" and "deleted job ... replaced by the next run".
    """
    count, why = POLICIES[name]
    first, second = scheduled["runs"]

    def settled() -> list[int]:
        runs = sorted(_unix(scheduled_at(j)) for j in jobs_of(kubectl, namespace, name))
        assert len(runs) == count, f"{name}: Jobs for runs {runs}, want {why}"
        return runs

    runs = eventually(settled, timeout=30, what=f"{name}: {why}")
    if name == "forbid":
        assert runs == [first], runs
    if name == "replace":
        assert runs == [second], runs
    if name == "allow":
        assert runs == [first, second], runs


def test_07_suspend(kubectl: Kubectl, namespace: str, scheduled: dict[str, Any]) -> None:
    """A suspended CronJob starts nothing and says so: Available False, reason Suspended.

    Hint (3.1): suspend is checked after the status is rebuilt and before any run.
    """
    assert jobs_of(kubectl, namespace, "suspended") == []
    cj = get(kubectl, "suspended", namespace)
    assert cj is not None and condition(cj, "Available") == ("False", "Suspended"), cj.get("status")


def test_08_history_limit(kubectl: Kubectl, namespace: str, scheduled: dict[str, Any]) -> None:
    """`twice` keeps one finished Job (successfulJobsHistoryLimit 1): older ones are deleted,
    oldest start first.

    Hint (3.1): pruning happens on each reconcile, after the status; a Job's completion is an event
    that wakes the CronJob's reconcile.
    """

    def pruned() -> list[dict[str, Any]]:
        jobs = jobs_of(kubectl, namespace, "twice")
        done = [j for j in jobs if any(c["type"] == "Complete" and c["status"] == "True"
                                       for c in j.get("status", {}).get("conditions", []))]  # fmt: skip
        assert len(done) == 1 and len(jobs) == 1, [j["metadata"]["name"] for j in jobs]
        return jobs

    (job,) = eventually(pruned, timeout=45, what="one finished Job left")
    assert _unix(scheduled_at(job)) == scheduled["runs"][1], "the newest run is the one kept"


def test_09_status_from_jobs(kubectl: Kubectl, namespace: str, scheduled: dict[str, Any]) -> None:
    """Status is rebuilt from the owned Jobs: `allow` lists its two active Jobs, lastScheduleTime is the
    second run, Progressing True JobsActive; `twice` is Available AllJobsCompleted.

    Hint (3.1): status.active holds references to running Jobs; conditions follow the tutorial's reasons.
    """
    second = scheduled["runs"][1]

    def allow_status() -> dict[str, Any]:
        cj = get(kubectl, "allow", namespace)
        assert cj is not None
        status = cj.get("status") or {}
        assert len(status.get("active") or []) == 2, status
        assert _unix(status.get("lastScheduleTime", "1970-01-01T00:00:00Z")) == second, status
        assert condition(cj, "Progressing") == ("True", "JobsActive"), status
        return status

    eventually(allow_status, timeout=30, what="allow's status")

    def every_minute() -> bool:
        cj = get(kubectl, "twice", namespace)
        assert cj is not None and condition(cj, "Available") == ("True", "AllJobsCompleted"), cj.get("status")
        return True

    eventually(every_minute, timeout=45, what="twice Available")
