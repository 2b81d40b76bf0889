"""The CronJob resource: names, scope, printer columns, subresources and its versions.

The CRD (``components/operator/deploy/crd.yaml``) is generated from this and the types
(``kubelab-operator generate``); everything else that names the resource reads it here.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubelab_operator.api import v1, v2
from kubelab_operator.api.base import ApiModel

GROUP = "batch.kubelab.dev"
KIND = "CronJob"
PLURAL = "cronjobs"
SINGULAR = "cronjob"
SHORT_NAMES = ("kcj",)  # not "cj": that is the built-in batch/v1 CronJob's
CATEGORIES = ("kubelab",)
SCHEDULED_AT = f"{GROUP}/scheduled-at"  # the Job annotation: the run's scheduled time, RFC 3339
FINALIZER = f"{GROUP}/finalizer"


@dataclass(frozen=True)
class PrinterColumn:
    name: str
    type: str
    json_path: str
    description: str = ""
    priority: int = 0
    format: str | None = None


@dataclass(frozen=True)
class Version:
    name: str
    model: type[ApiModel]
    storage: bool = False
    served: bool = True
    deprecated: str | None = None  # the deprecation warning, when deprecated
    columns: tuple[PrinterColumn, ...] = ()


@dataclass(frozen=True)
class ResourceDefinition:
    group: str
    kind: str
    plural: str
    singular: str
    versions: tuple[Version, ...]
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    namespaced: bool = True
    status_subresource: bool = True
    conversion_path: str | None = None  # a conversion webhook at this path, when set

    @property
    def name(self) -> str:
        return f"{self.plural}.{self.group}"

    @property
    def storage_version(self) -> str:
        (version,) = [v.name for v in self.versions if v.storage]
        return version


_COMMON_COLUMNS = (
    PrinterColumn("Suspend", "boolean", ".spec.suspend"),
    PrinterColumn("Active", "string", ".status.active[*].name", "the Jobs running now"),
    PrinterColumn("Last Schedule", "date", ".status.lastScheduleTime"),
    PrinterColumn("Available", "string", '.status.conditions[?(@.type=="Available")].status', priority=1),
    PrinterColumn("Age", "date", ".metadata.creationTimestamp"),
)

CRONJOB = ResourceDefinition(
    group=GROUP,
    kind=KIND,
    plural=PLURAL,
    singular=SINGULAR,
    short_names=SHORT_NAMES,
    categories=CATEGORIES,
    conversion_path="/convert",
    versions=(
        Version(
            v1.VERSION,
            v1.CronJob,
            storage=True,
            columns=(PrinterColumn("Schedule", "string", ".spec.schedule"), *_COMMON_COLUMNS),
        ),
        Version(
            v2.VERSION,
            v2.CronJob,
            columns=(PrinterColumn("Minute", "string", ".spec.schedule.minute"), *_COMMON_COLUMNS),
        ),
    ),
)
