"""``meta.SetStatusCondition`` in Python: set a condition in a list keyed by type, keeping its
``lastTransitionTime`` unless the status changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kubelab_client.objects import format_time

AVAILABLE = "Available"
PROGRESSING = "Progressing"
DEGRADED = "Degraded"


def set_condition(
    conditions: list[dict[str, Any]],
    type_: str,
    status: bool,
    reason: str,
    message: str,
    *,
    now: datetime,
    generation: int | None = None,
) -> None:
    value = "True" if status else "False"
    for cond in conditions:
        if cond.get("type") == type_:
            if cond.get("status") != value:
                cond["lastTransitionTime"] = format_time(now)
            cond.update(status=value, reason=reason, message=message)
            if generation is not None:
                cond["observedGeneration"] = generation
            return
    cond = {
        "type": type_,
        "status": value,
        "reason": reason,
        "message": message,
        "lastTransitionTime": format_time(now),
    }
    if generation is not None:
        cond["observedGeneration"] = generation
    conditions.append(cond)


def get_condition(conditions: list[dict[str, Any]] | None, type_: str) -> dict[str, Any] | None:
    return next((c for c in conditions or [] if c.get("type") == type_), None)
