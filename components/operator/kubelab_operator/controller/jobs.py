"""The Jobs of a CronJob: which are finished, when each was scheduled, and the Job of a new run."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from kubelab_client.objects import format_time, parse_time
from kubelab_operator.api.resource import GROUP, KIND, SCHEDULED_AT
from kubelab_operator.schedule import job_name

Obj = dict[str, Any]


def finished(job: Obj) -> str | None:
    """``Complete`` or ``Failed`` when the Job has that condition True; None while it runs."""
    for cond in job.get("status", {}).get("conditions") or []:
        if cond.get("type") in ("Complete", "Failed") and cond.get("status") == "True":
            return str(cond["type"])
    return None


def scheduled_at(job: Obj) -> datetime | None:
    """The run this Job is for (its scheduled-at annotation); None if absent or unreadable."""
    try:
        return parse_time(job.get("metadata", {}).get("annotations", {}).get(SCHEDULED_AT))
    except ValueError:
        return None


def started_at(job: Obj) -> datetime | None:
    return parse_time(job.get("status", {}).get("startTime"))


def controller_of(job: Obj) -> tuple[str, str] | None:
    """(namespace, name) of the CronJob that controls this Job, if one of ours does."""
    for ref in job.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller") and ref.get("kind") == KIND and str(ref.get("apiVersion", "")).startswith(f"{GROUP}/"):
            return job["metadata"].get("namespace", ""), ref["name"]
    return None


def reference(job: Obj) -> Obj:
    meta = job["metadata"]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "name": meta["name"],
        "namespace": meta.get("namespace"),
        "uid": meta.get("uid"),
        "resourceVersion": meta.get("resourceVersion"),
    }


def new_job(cronjob: Obj, scheduled: datetime) -> Obj:
    """The Job of the run at ``scheduled``: the template's labels, annotations and spec, the
    scheduled-at annotation, and the CronJob as its controller (the garbage collector deletes
    it with the CronJob)."""
    meta = cronjob["metadata"]
    template = cronjob["spec"]["jobTemplate"]
    tmeta = template.get("metadata") or {}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": job_name(meta["name"], scheduled),
            "namespace": meta["namespace"],
            "labels": dict(tmeta.get("labels") or {}),
            "annotations": {**(tmeta.get("annotations") or {}), SCHEDULED_AT: format_time(scheduled)},
            "ownerReferences": [
                {
                    "apiVersion": cronjob.get("apiVersion", f"{GROUP}/v1"),
                    "kind": KIND,
                    "name": meta["name"],
                    "uid": meta["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": copy.deepcopy(template["spec"]),
    }
