"""batch.kubelab.dev/v1: the hub and storage version; the schedule is one cron string."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from kubelab_operator.api.base import ApiModel
from kubelab_operator.api.common import CommonSpec, CronJobStatus
from kubelab_operator.api.markers import MinLength

VERSION = "v1"


class CronJobSpec(CommonSpec):
    """The desired state of a CronJob."""

    schedule: Annotated[str, MinLength(1)] = Field(
        description="The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."
    )


class CronJob(ApiModel):
    """A CronJob runs a Job on a schedule: the Chapter 3 custom resource."""

    spec: CronJobSpec
    status: CronJobStatus | None = None
