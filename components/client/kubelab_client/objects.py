"""Kubernetes objects as plain JSON dicts, and the few metadata accessors the cache needs.

The cache layer keeps what the API server sent (``json.loads`` of the body) rather than the
generated model classes: a dict costs less to build and to keep, works for any resource
(custom ones included), and is what a handler would serialize anyway. Treat cached objects
as read-only, as client-go asks: copy (``copy.deepcopy``) before changing one.
"""

from __future__ import annotations

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
