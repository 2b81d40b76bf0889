"""What the scheduler reads from a pod (pods are plain dicts, as the API server sends them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Pod = Mapping[str, Any]
DEFAULT_SCHEDULER = "default-scheduler"


def key(pod: Pod) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def uid(pod: Pod) -> str:
    return str((pod.get("metadata") or {}).get("uid") or "")


def node_name(pod: Pod) -> str:
    return str((pod.get("spec") or {}).get("nodeName") or "")


def scheduler_name(pod: Pod) -> str:
    return str((pod.get("spec") or {}).get("schedulerName") or DEFAULT_SCHEDULER)


def priority(pod: Pod) -> int:
    return int((pod.get("spec") or {}).get("priority") or 0)


def labels(pod: Pod) -> dict[str, str]:
    return dict((pod.get("metadata") or {}).get("labels") or {})


def is_terminal(pod: Pod) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def is_deleting(pod: Pod) -> bool:
    return bool((pod.get("metadata") or {}).get("deletionTimestamp"))


def scheduling_gated(pod: Pod) -> bool:
    return bool((pod.get("spec") or {}).get("schedulingGates"))


def needs_scheduling(pod: Pod, names: set[str]) -> bool:
    """Unassigned, alive, not terminal and asking for one of ``names`` (the profiles' schedulerNames)."""
    return not node_name(pod) and not is_terminal(pod) and not is_deleting(pod) and scheduler_name(pod) in names
