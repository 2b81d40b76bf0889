"""One reconcile of one CronJob, as the upstream tutorial's ``Reconcile``: a pure function of the
CronJob, its Jobs and *now*, returning what to do (a :class:`Plan`). The engine carries the plan
out; tests call this with a fake clock and no API server.

Order, as upstream: split the Jobs into active / successful / failed → rebuild the status from
them (``lastScheduleTime`` = the latest scheduled-at, ``active`` = references to running Jobs) →
conditions → prune history beyond the limits, oldest start first → stop if suspended → the
missed run and the next one → skip a run blocked by ``Forbid``; delete the active Jobs for
``Replace`` → the Job of the missed run.

A run older than ``startingDeadlineSeconds`` is never started: the missed-run computation starts
from ``now - startingDeadlineSeconds``, so such a run is not among the missed ones at all. (The
tutorial checks "too late" once more afterwards; after that clamp the check can never be true,
so it is not repeated here.) The plan's ``requeue_after`` is the
time until the next run: the engine wakes up exactly then, it never polls.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kubelab_client.objects import format_time, parse_time
from kubelab_operator import schedule
from kubelab_operator.controller import jobs as jobs_
from kubelab_operator.controller.conditions import AVAILABLE, DEGRADED, PROGRESSING, set_condition

Obj = dict[str, Any]


@dataclass
class Plan:
    status: Obj  # the whole status to write (the engine writes it only if it changed)
    delete: list[tuple[str, str]] = field(default_factory=list)  # (Job name, why)
    create: Obj | None = None  # the Job of the run that is due
    requeue_after: float | None = None  # seconds until the next run; None: until something changes
    notes: list[str] = field(default_factory=list)  # what was decided, for the log


def _sorted_by_start(items: list[Obj]) -> list[Obj]:
    """Oldest first by status.startTime; Jobs that never started last (upstream's order)."""
    never = datetime.max.replace(tzinfo=UTC)
    return sorted(items, key=lambda j: jobs_.started_at(j) or never)


def _prune(items: list[Obj], limit: int | None, kind: str, plan: Plan) -> None:
    if limit is None:
        return
    ordered = _sorted_by_start(items)
    for job in ordered[: max(0, len(ordered) - limit)]:
        plan.delete.append((job["metadata"]["name"], f"old {kind} job beyond the history limit of {limit}"))


def reconcile(cronjob: Obj, owned: list[Obj], now: datetime) -> Plan:
    meta, spec = cronjob["metadata"], cronjob["spec"]
    generation = meta.get("generation")
    active: list[Obj] = []
    successful: list[Obj] = []
    failed: list[Obj] = []
    latest: datetime | None = None
    for job in owned:
        if job["metadata"].get("deletionTimestamp"):
            continue  # on its way out (pruned or replaced): no longer counted
        state = jobs_.finished(job)
        (active if state is None else successful if state == "Complete" else failed).append(job)
        when = jobs_.scheduled_at(job)
        if when is not None and (latest is None or when > latest):
            latest = when

    status: Obj = {"conditions": copy.deepcopy((cronjob.get("status") or {}).get("conditions") or [])}
    if latest is not None:
        status["lastScheduleTime"] = format_time(latest)
    if active:
        status["active"] = [jobs_.reference(j) for j in sorted(active, key=lambda j: j["metadata"]["name"])]
    conds = status["conditions"]

    def cond(type_: str, ok: bool, reason: str, message: str) -> None:
        set_condition(conds, type_, ok, reason, message, now=now, generation=generation)

    suspended = bool(spec.get("suspend"))
    if suspended:
        cond(AVAILABLE, False, "Suspended", "CronJob is suspended")
    elif failed:
        cond(DEGRADED, True, "JobsFailed", f"{len(failed)} job(s) have failed")
        cond(AVAILABLE, False, "JobsFailed", f"{len(failed)} job(s) have failed")
    elif active:
        cond(PROGRESSING, True, "JobsActive", f"{len(active)} job(s) are currently active")
        cond(AVAILABLE, True, "JobsActive", f"CronJob is progressing with {len(active)} active job(s)")
    else:
        cond(AVAILABLE, True, "AllJobsCompleted", "All jobs have completed successfully")
        cond(PROGRESSING, False, "NoJobsActive", "No jobs are currently active")
    if not failed:
        cond(DEGRADED, False, "AsExpected", "No job has failed")

    plan = Plan(status)
    _prune(failed, spec.get("failedJobsHistoryLimit"), "failed", plan)
    _prune(successful, spec.get("successfulJobsHistoryLimit"), "successful", plan)
    if suspended:
        plan.notes.append("suspended: no new runs")
        return plan

    try:
        runs = schedule.missed_and_next(
            schedule.parse(spec["schedule"]),
            now=now,
            created=parse_time(meta["creationTimestamp"]) or now,
            last_scheduled=latest,
            starting_deadline_seconds=spec.get("startingDeadlineSeconds"),
        )
    except schedule.ScheduleError as exc:
        cond(DEGRADED, True, "InvalidSchedule", f"Failed to parse schedule: {exc.problem}")
        plan.notes.append(f"unparseable schedule {spec['schedule']!r}: waiting for a fix")
        return plan  # no requeue: only an update can fix it
    except schedule.TooManyMissedRuns as exc:
        cond(DEGRADED, True, "TooManyMissedRuns", exc.problem)
        plan.notes.append(exc.problem)
        return plan

    plan.requeue_after = max(0.0, (runs.next - now).total_seconds())
    if runs.missed is None:
        plan.notes.append(f"nothing due; next run at {format_time(runs.next)}")
        return plan
    policy = spec.get("concurrencyPolicy") or "Allow"
    if policy == "Forbid" and active:
        plan.notes.append(f"concurrency policy Forbid: {len(active)} active job(s), skipping the run")
        return plan
    if policy == "Replace":
        for job in active:
            plan.delete.append((job["metadata"]["name"], "replaced by the next run (concurrency policy Replace)"))
    plan.create = jobs_.new_job(cronjob, runs.missed)
    plan.notes.append(f"starting the run at {format_time(runs.missed)}")
    return plan
