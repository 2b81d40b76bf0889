"""Types the CronJob borrows from Kubernetes: ``metav1.Condition``, ``corev1.ObjectReference`` and
``batchv1.JobTemplateSpec`` (whose Job spec is left to the API server to check, when the Job is made)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from kubelab_operator.api.base import ApiModel
from kubelab_operator.api.markers import (
    Format,
    MaxLength,
    Minimum,
    MinLength,
    Pattern,
    PreserveUnknownFields,
)

CONDITION_TYPE = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"
)


class Condition(ApiModel):
    """One aspect of the object's state, as metav1.Condition."""

    type: Annotated[
        str,
        MaxLength(316),
        Pattern(
            r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"
        ),
    ] = Field(description="type of condition in CamelCase.")
    status: Literal["True", "False", "Unknown"] = Field(description="status of the condition.")
    observed_generation: Annotated[int | None, Minimum(0)] = Field(
        None, description="the .metadata.generation the condition was set for."
    )
    last_transition_time: Annotated[datetime, Format("date-time")] = Field(
        description="the last time the condition changed status."
    )
    reason: Annotated[str, MinLength(1), MaxLength(1024), Pattern(r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")] = Field(
        description="a programmatic identifier for the last transition, in CamelCase."
    )
    message: Annotated[str, MaxLength(32768)] = Field(description="a human-readable message about the transition.")


class ObjectReference(ApiModel):
    """A reference to a Job this CronJob runs."""

    api_version: str | None = None
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    resource_version: str | None = None


class JobTemplateMeta(ApiModel):
    """Labels and annotations given to each Job."""

    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None


class JobTemplateSpec(ApiModel):
    """The Job each run makes (batch/v1 JobTemplateSpec)."""

    metadata: JobTemplateMeta | None = None
    spec: Annotated[dict[str, Any], PreserveUnknownFields()] = Field(
        description="the Job's spec (batch/v1 JobSpec); the API server checks it when the Job is made."
    )
