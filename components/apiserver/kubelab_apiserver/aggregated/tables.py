"""Server-side printing: the ``meta.k8s.io/v1 Table`` kubectl asks for (columns from the resource,
each row with the object's metadata or the whole object, per ``includeObject``) and
``PartialObjectMetadata`` (and its List), the metadata-only view controllers watch through."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kubelab_apiserver.aggregated.resources import Object, ResourceType
from kubelab_apiserver.aggregated.status import bad_request
from kubelab_client.objects import parse_time


def human_duration(since: str | None, now: dt.datetime | None = None) -> str:
    """``kubectl``'s ages: 42s, 5m10s, 3h, 2d5h, 400d."""
    when = parse_time(since)
    if when is None:
        return "<unknown>"
    seconds = int(((now or dt.datetime.now(dt.UTC)) - when).total_seconds())
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    return f"{days}d"


def partial(obj: Object, version: str = "v1") -> Object:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": f"meta.k8s.io/{version}",
        "metadata": obj.get("metadata", {}),
    }


def partial_list(items: list[Object], list_meta: dict[str, Any], version: str = "v1") -> Object:
    return {
        "kind": "PartialObjectMetadataList",
        "apiVersion": f"meta.k8s.io/{version}",
        "metadata": list_meta,
        "items": [partial(o, version) for o in items],
    }


def include_object(value: str | None) -> str:
    if value in (None, ""):
        return "Metadata"
    if value not in ("None", "Metadata", "Object"):
        raise bad_request(f"includeObject must be one of None, Metadata, Object, not {value!r}")
    return value


def column_definitions(resource: ResourceType) -> list[dict[str, Any]]:
    return [
        {
            "name": c.name,
            "type": "string" if c.type == "date" else c.type,
            "format": c.format,
            "description": c.description,
            "priority": c.priority,
        }
        for c in resource.columns
    ]


def _cell(column_type: str, value: Any) -> Any:
    return human_duration(value) if column_type == "date" else value


def row(resource: ResourceType, obj: Object, include: str, version: str = "v1") -> dict[str, Any]:
    found: dict[str, Any] = {"cells": [_cell(c.type, c.cell(obj)) for c in resource.columns]}
    if include == "Object":
        found["object"] = obj
    elif include == "Metadata":
        found["object"] = partial(obj, version)
    return found


def table(
    resource: ResourceType,
    items: list[Object],
    list_meta: dict[str, Any],
    *,
    include: str = "Metadata",
    version: str = "v1",
    headers: bool = True,
) -> Object:
    return {
        "kind": "Table",
        "apiVersion": f"meta.k8s.io/{version}",
        "metadata": list_meta,
        "columnDefinitions": column_definitions(resource) if headers else [],
        "rows": [row(resource, o, include, version) for o in items],
    }
