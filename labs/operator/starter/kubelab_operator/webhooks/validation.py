"""STARTER (chapter 3.3.3): one TODO below, marked ``TODO(3.3.3)``. Everything else works.

The validating webhook's rules (book 3.3.3, the tutorial's ``validateCronJob``), on create and
update, each failure a field error as Go's ``field.Invalid`` words it:

- ``metadata.name``: at most 52 characters. A Job's name is the CronJob's plus ``-`` and the
  run's unix time (11 characters), and must fit the 63 characters of a label value.
- ``spec.schedule``: a standard cron schedule (five fields, or a descriptor such as
  ``@hourly``), with the parser's message ("Expected exactly 5 fields, found 1: ...").

The denial is a Kubernetes ``Status`` 422 ``Invalid``, as ``apierrors.NewInvalid`` makes it:
``CronJob.batch.kubelab.dev "NAME" is invalid: [field: Invalid value: "...": why, ...]``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kubelab_client.objects import failure_status
from kubelab_operator import schedule
from kubelab_operator.api.resource import GROUP, KIND

MAX_NAME = 52  # 63 (a label value) - 11 (the "-<unix time>" suffix of each Job)


@dataclass(frozen=True)
class FieldError:
    field: str
    value: Any
    detail: str

    def __str__(self) -> str:
        return f"{self.field}: Invalid value: {json.dumps(self.value)}: {self.detail}"


def validate(obj: dict[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    # The tutorial's two rules, each a FieldError(field, value, detail):
    # 1. metadata.name: at most MAX_NAME characters ("must be no more than 52 characters")
    # 2. spec.schedule: schedule.parse(text) raises schedule.ScheduleError: use its .problem
    return errors


def invalid_status(obj: dict[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    """The 422 ``Status`` of ``apierrors.NewInvalid`` for these errors."""
    name = str(obj.get("metadata", {}).get("name") or "")
    listed = str(errors[0]) if len(errors) == 1 else "[" + ", ".join(str(e) for e in errors) + "]"
    causes = [
        {
            "reason": "FieldValueInvalid",
            "message": f"Invalid value: {json.dumps(e.value)}: {e.detail}",
            "field": e.field,
        }
        for e in errors
    ]
    details = {"name": name, "group": GROUP, "kind": KIND, "causes": causes}
    return failure_status(422, "Invalid", f'{KIND}.{GROUP} "{name}" is invalid: {listed}', details)
