"""The PodGroup resource (``scheduling.kubelab.dev/v1alpha1``, as scheduler-plugins'
``scheduling.x-k8s.io`` PodGroup): ``spec.minMember`` pods must be placeable together, within
``spec.scheduleTimeoutSeconds``; pods join with the label ``scheduling.kubelab.dev/pod-group``.
Its status says how far it got: ``phase`` (Pending, Scheduling, Scheduled) and ``scheduled``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubelab_client.resources import Resource
from kubelab_scheduler import pods

GROUP = "scheduling.kubelab.dev"
PODGROUPS = Resource(GROUP, "v1alpha1", "podgroups", "PodGroup")
LABEL = f"{GROUP}/pod-group"
INDEX = "kubelab/pod-group"
DEFAULT_TIMEOUT = 60


def group_key(pod: Mapping[str, Any]) -> str | None:
    """``namespace/group`` of the pod's PodGroup, or None when it is in none."""
    name = pods.labels(pod).get(LABEL)
    if not name:
        return None
    return f"{(pod.get('metadata') or {}).get('namespace', '')}/{name}"


def index(obj: Any) -> list[str]:
    key = group_key(obj) if isinstance(obj, Mapping) else None
    return [key] if key else []


@dataclass(frozen=True)
class PodGroup:
    namespace: str
    name: str
    min_member: int
    timeout: float
    uid: str

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> PodGroup:
        meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
        return cls(
            str(meta.get("namespace") or ""), str(meta.get("name") or ""), int(spec.get("minMember") or 1),
            float(spec.get("scheduleTimeoutSeconds") or DEFAULT_TIMEOUT), str(meta.get("uid") or ""),
        )  # fmt: skip
