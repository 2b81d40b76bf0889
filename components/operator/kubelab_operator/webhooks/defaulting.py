"""The defaulting webhook's rules (book 3.3.3, the tutorial's ``Default``): only where unset,
``concurrencyPolicy: Allow``, ``suspend: false``, ``successfulJobsHistoryLimit: 3``,
``failedJobsHistoryLimit: 1``; as a JSON Patch (RFC 6902) of ``add`` operations."""

from __future__ import annotations

import base64
import json
from typing import Any

DEFAULTS: dict[str, Any] = {
    "concurrencyPolicy": "Allow",
    "suspend": False,
    "successfulJobsHistoryLimit": 3,
    "failedJobsHistoryLimit": 1,
}


def default_patch(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """The operations that give ``obj`` its defaults; empty when it has them all."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return []  # the schema rejects it; nothing to default
    return [
        {"op": "add", "path": f"/spec/{field}", "value": value}
        for field, value in DEFAULTS.items()
        if spec.get(field) is None
    ]


def encode(ops: list[dict[str, Any]]) -> str:
    return base64.b64encode(json.dumps(ops).encode()).decode()
