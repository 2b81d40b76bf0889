"""batch.kubelab.dev/v2: the schedule is an object of five optional fields (unset means ``*``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from kubelab_operator.api.base import ApiModel
from kubelab_operator.api.common import CommonSpec, CronJobStatus
from kubelab_operator.api.markers import MaxLength, Pattern, Rule

VERSION = "v2"

CronField = Annotated[str | None, MaxLength(64), Pattern(r"^[0-9A-Za-z*/,?#LW-]+$")]


class CronSchedule(ApiModel):
    """A cron schedule, field by field; an unset field means ``*``."""

    __markers__ = (
        Rule(
            "[has(self.minute), has(self.hour), has(self.dayOfMonth), has(self.month), has(self.dayOfWeek)]"
            ".exists(f, f)",
            message="set at least one field of the schedule (an empty schedule runs every minute: "
            'say so with minute: "*")',
        ),
    )

    minute: CronField = Field(None, description="minute of the hour (0-59)")
    hour: CronField = Field(None, description="hour of the day (0-23)")
    day_of_month: CronField = Field(None, description="day of the month (1-31)")
    month: CronField = Field(None, description="month of the year (1-12)")
    day_of_week: CronField = Field(None, description="day of the week (0-6, Sunday = 0)")


class CronJobSpec(CommonSpec):
    """The desired state of a CronJob."""

    schedule: CronSchedule = Field(description="When to run, field by field.")


class CronJob(ApiModel):
    """A CronJob runs a Job on a schedule: the Chapter 3 custom resource."""

    spec: CronJobSpec
    status: CronJobStatus | None = None
