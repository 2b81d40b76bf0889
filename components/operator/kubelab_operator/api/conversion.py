"""Converting a CronJob between versions (book 3.2), through the hub (v1, the storage version).

v1 → v2 splits the schedule on spaces into the five fields (exactly five; ``*`` becomes unset);
v2 → v1 joins the fields, an unset one as ``*``. Everything else, status included, is the same
in both versions and is copied. A descriptor (``@hourly``) has no field form: it cannot be
read as v2 (a :class:`ConversionError`, the API server reports it as the conversion's failure).
"""

from __future__ import annotations

import copy
from typing import Any

from kubelab_operator.api.resource import GROUP

FIELDS = ("minute", "hour", "dayOfMonth", "month", "dayOfWeek")
HUB = "v1"
VERSIONS = ("v1", "v2")

Obj = dict[str, Any]


class ConversionError(ValueError):
    """The object cannot be expressed in the version asked for; the message says why."""


def version_of(api_version: str) -> str:
    group, _, version = api_version.rpartition("/")
    if group != GROUP or version not in VERSIONS:
        raise ConversionError(
            f"unsupported apiVersion {api_version!r}: this webhook converts {GROUP}/{'|'.join(VERSIONS)}"
        )
    return version


def _v1_schedule_to_v2(schedule: str) -> Obj:
    parts = schedule.split()
    if len(parts) != 5:
        raise ConversionError(
            f"schedule {schedule!r} has {len(parts)} fields; "
            "v2 needs exactly 5 (minute hour day-of-month month day-of-week)"
        )
    return {name: part for name, part in zip(FIELDS, parts, strict=True) if part != "*"}


def _v2_schedule_to_v1(schedule: Obj) -> str:
    return " ".join(str(schedule.get(name) or "*") for name in FIELDS)


def convert(obj: Obj, desired_api_version: str) -> Obj:
    """``obj`` (any served version) as ``desired_api_version``; a copy, the input is untouched."""
    source = version_of(str(obj.get("apiVersion", "")))
    target = version_of(desired_api_version)
    out = copy.deepcopy(obj)
    out["apiVersion"] = desired_api_version
    if source == target:
        return out
    spec = out.get("spec")
    if isinstance(spec, dict) and "schedule" in spec:
        if target == "v2":  # from the hub
            spec["schedule"] = _v1_schedule_to_v2(str(spec["schedule"]))
        else:  # to the hub
            if not isinstance(spec["schedule"], dict):
                raise ConversionError(f"v2 spec.schedule must be an object, got {type(spec['schedule']).__name__}")
            spec["schedule"] = _v2_schedule_to_v1(spec["schedule"])
    return out
