"""Kubernetes objects as plain JSON dicts, and the few metadata accessors the cache needs.

The cache layer keeps what the API server sent (``json.loads`` of the body) rather than the
generated model classes: a dict costs less to build and to keep, works for any resource
(custom ones included), and is what a handler would serialize anyway. Treat cached objects
as read-only, as client-go asks: copy (``copy.deepcopy``) before changing one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

KubeObject = dict[str, Any]


def metadata(obj: KubeObject) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def name(obj: KubeObject) -> str:
    return str(metadata(obj).get("name") or "")


def namespace(obj: KubeObject) -> str:
    return str(metadata(obj).get("namespace") or "")


def resource_version(obj: KubeObject) -> str:
    return str(metadata(obj).get("resourceVersion") or "")


def labels(obj: KubeObject) -> dict[str, str]:
    found = metadata(obj).get("labels")
    return dict(found) if isinstance(found, dict) else {}


def uid(obj: KubeObject) -> str:
    return str(metadata(obj).get("uid") or "")


def failure_status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> KubeObject:
    """A ``meta/v1 Status`` of a failure, as the API server (and a webhook's denial) sends it."""
    status: KubeObject = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    }
    if details is not None:
        status["details"] = details
    status["code"] = code
    return status


def format_time(when: datetime, *, micro: bool = False) -> str:
    """``metav1.Time`` (RFC 3339 in UTC, seconds) or, with ``micro``, ``metav1.MicroTime``."""
    utc = when.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> datetime | None:
    """A timestamp as the API server writes it (``...Z``), timezone-aware; None when absent."""
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
