"""Index functions: an object → the index values it is filed under (client-go ``cache.IndexFunc``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubelab_client.objects import labels, metadata

IndexFunc = Callable[[Any], list[str]]
Indexers = dict[str, IndexFunc]

NAMESPACE_INDEX = "namespace"


def meta_namespace_index(obj: Any) -> list[str]:
    """The object's namespace ("" for cluster-scoped objects)."""
    return [str(metadata(obj).get("namespace") or "")]


def label_index(label: str) -> IndexFunc:
    """Index by the value of one label; objects without it are not in the index."""

    def index(obj: Any) -> list[str]:
        value = labels(obj).get(label)
        return [value] if value is not None else []

    return index


def owner_uid_index(obj: Any) -> list[str]:
    """The UIDs of the object's ownerReferences (find what a controller owns)."""
    refs = metadata(obj).get("ownerReferences") or []
    return [str(ref["uid"]) for ref in refs if isinstance(ref, dict) and ref.get("uid")]


def default_indexers() -> Indexers:
    return {NAMESPACE_INDEX: meta_namespace_index}
