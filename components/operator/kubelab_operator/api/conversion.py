"""Converting a CronJob between versions (book 3.2), through the hub (v1, the storage version).

v1 → v2 splits the schedule on spaces into the five fields (``*`` becomes unset); v2 → v1 joins
the fields, an unset one as ``*``. Everything else, status included, is the same in both
versions and is copied.

Conversion must never fail for a stored object: the API server converts to every served
version (a list in v2, the namespace controller deleting a namespace's content version by
version), and one object it cannot convert breaks them all. So the conversion is total and
lossless, unlike the upstream tutorial's (which fails on ``@hourly``): a descriptor becomes its
five fields (``@hourly`` → ``{minute: "0"}``, the same meaning), and a v1 schedule with no field
form (not five fields: an object the webhooks never saw) goes to v2 as an empty schedule.
Whenever joining the fields would not give the v1 text back (a descriptor, no field form), the
text is kept in the annotation ``batch.kubelab.dev/v1-schedule``, and v2 → v1 restores it as long
as it still means the v2 fields (a v2 client that changed the schedule wins over a stale copy):
v1 → v2 → v1 is the identity, which a change of storage version to v2 depends on.
A :class:`ConversionError` is left for what is not a CronJob of a version served here.
"""

from __future__ import annotations

import copy
from typing import Any

from kubelab_operator.api.resource import GROUP

FIELDS = ("minute", "hour", "dayOfMonth", "month", "dayOfWeek")
DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
KEPT_SCHEDULE = f"{GROUP}/v1-schedule"  # a v1 schedule with no v2 form, kept for the way back
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


def _v1_schedule_to_v2(schedule: str) -> Obj | None:
    """The five fields, or None when the schedule has no field form."""
    parts = DESCRIPTORS.get(schedule.strip().lower(), schedule).split()
    if len(parts) != 5:
        return None
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
    if not isinstance(spec, dict) or "schedule" not in spec:
        return out
    annotations = out.setdefault("metadata", {}).get("annotations") or {}
    if target == "v2":  # from the hub
        text = str(spec["schedule"])
        fields = _v1_schedule_to_v2(text) or {}
        if _v2_schedule_to_v1(fields) != text:
            out["metadata"]["annotations"] = {**annotations, KEPT_SCHEDULE: text}
        spec["schedule"] = fields
    else:  # to the hub
        if not isinstance(spec["schedule"], dict):
            raise ConversionError(f"v2 spec.schedule must be an object, got {type(spec['schedule']).__name__}")
        kept = annotations.pop(KEPT_SCHEDULE, None)
        still_meant = kept is not None and (_v1_schedule_to_v2(str(kept)) or {}) == spec["schedule"]
        spec["schedule"] = str(kept) if still_meant else _v2_schedule_to_v1(spec["schedule"])
        if kept is not None:
            if annotations:
                out["metadata"]["annotations"] = annotations
            else:
                out["metadata"].pop("annotations", None)
    return out
