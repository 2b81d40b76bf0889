"""Checkpoint 15 (book 3.3.5): killing the active replica hands over within 15 s; no run gets two Jobs."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from kubelab_client.objects import format_time
from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube
from kubelab_labkit.waiting import eventually

from .operatorlab import (
    SYSTEM_NS,
    create,
    cronjob,
    jobs_of,
    leader_pod,
    lease_holder,
    next_minute,
    scheduled_at,
    sleep_until,
)


def test_15_leader_killed_standby_takes_over(
    kubectl: Kubectl, namespace: str, operator: str, scheduled: dict[str, Any]
) -> None:
    """The leader pod is killed without a chance to let go (grace period 0); the standby holds the Lease
    within 15 s and runs the next Job of a CronJob due right after, exactly once.

    Hint (3.3.5): kubelab_client/leaderelection.py (lease duration 10 s, retry 2 s); the new leader logs
    "acquired lease"; Job names are deterministic, so a run made twice would be a 409, not a second Job.
    """
    old_holder = lease_holder(kubectl)
    old_pod = leader_pod(kubectl)
    due = next_minute(lead=25)  # handover first, then the run
    minute = time.gmtime(due).tm_min
    assert create(kubectl, cronjob("failover", namespace, operator, f"{minute} * * * *")).ok
    killed = time.monotonic()
    kubectl.run("-n", SYSTEM_NS, "delete", "pod", old_pod, "--grace-period=0", "--force", "--wait=false")

    def new_holder() -> str:
        holder = lease_holder(kubectl)
        assert holder and holder != old_holder, f"Lease still held by {holder!r}"
        return holder

    holder = eventually(new_holder, timeout=20, interval=0.5, what="another replica to take the Lease")
    took = time.monotonic() - killed
    assert took <= 15, f"handover took {took:.1f} s"
    assert holder.rsplit("_", 1)[0] != old_pod
    sleep_until(due + 8)
    jobs = eventually(lambda: jobs_of(kubectl, namespace, "failover"), timeout=20, what="the run after the handover")
    assert [scheduled_at(j) for j in jobs] == [format_time(datetime.fromtimestamp(due, UTC))], jobs
    for name in ("twice", "allow", "forbid", "replace"):  # and no run of the earlier CronJobs was made twice
        runs = Counter(scheduled_at(j) for j in jobs_of(kubectl, namespace, name))
        assert all(count == 1 for count in runs.values()), (name, runs)
    kube.rollout(kubectl, "deployment/kubelab-operator", namespace=SYSTEM_NS, timeout=120)
