"""What both versions share: every spec field but the schedule, and the status."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from kubelab_operator.api.base import ApiModel
from kubelab_operator.api.markers import Default, Format, ListType, Minimum, MinItems
from kubelab_operator.api.meta import Condition, JobTemplateSpec, ObjectReference

ConcurrencyPolicy = Literal["Allow", "Forbid", "Replace"]


class CommonSpec(ApiModel):
    starting_deadline_seconds: Annotated[int | None, Minimum(0)] = Field(
        None,
        description="Deadline in seconds for starting the job if it misses its scheduled time "
        "for any reason. Missed job executions will be counted as failed ones.",
    )
    concurrency_policy: Annotated[ConcurrencyPolicy | None, Default("Allow")] = Field(
        None,
        description="How to treat concurrent executions of a Job: Allow (the default) runs them "
        "side by side; Forbid skips a run while the previous one is active; Replace cancels "
        "the active run for the new one.",
    )
    suspend: bool | None = Field(
        None, description="Tells the controller to suspend subsequent executions; running ones go on."
    )
    job_template: JobTemplateSpec = Field(description="The job that will be created when executing a CronJob.")
    successful_jobs_history_limit: Annotated[int | None, Minimum(0)] = Field(
        None, description="The number of successful finished jobs to retain."
    )
    failed_jobs_history_limit: Annotated[int | None, Minimum(0)] = Field(
        None, description="The number of failed finished jobs to retain."
    )


class CronJobStatus(ApiModel):
    """The observed state of a CronJob, rebuilt from its Jobs on every reconcile."""

    active: Annotated[list[ObjectReference] | None, MinItems(1), ListType("atomic")] = Field(
        None, description="Pointers to currently running jobs."
    )
    last_schedule_time: Annotated[datetime | None, Format("date-time")] = Field(
        None, description="When the job was last successfully scheduled."
    )
    conditions: Annotated[list[Condition] | None, ListType("map", ("type",))] = Field(
        None, description="Available, Progressing and Degraded, with the tutorial's reasons."
    )
