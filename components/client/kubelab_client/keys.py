"""Cache keys (``namespace/name``, or ``name`` for cluster-scoped objects) and delete tombstones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubelab_client.objects import KubeObject, metadata


@dataclass(frozen=True)
class DeletedFinalStateUnknown:
    """A delete the informer inferred, not saw: after a relist the object was simply gone.

    ``obj`` is the last state the cache knew, possibly stale. Handlers' ``on_delete`` gets
    either a plain object or one of these (client-go's ``cache.DeletedFinalStateUnknown``).
    """

    key: str
    obj: KubeObject | None


KeyFunc = Callable[[Any], str]


class KeyFuncError(ValueError):
    """An object without ``metadata.name`` cannot be keyed."""


def meta_namespace_key(obj: KubeObject | DeletedFinalStateUnknown) -> str:
    """``namespace/name``, or ``name`` when there is no namespace; a tombstone keeps its key."""
    if isinstance(obj, DeletedFinalStateUnknown):
        return obj.key
    meta = metadata(obj)
    name = meta.get("name")
    if not name:
        raise KeyFuncError(f"object has no metadata.name: {obj!r:.200}")
    ns = meta.get("namespace")
    return f"{ns}/{name}" if ns else str(name)


def split_meta_namespace_key(key: str) -> tuple[str, str]:
    """``"ns/name"`` → ``("ns", "name")``; ``"name"`` → ``("", "name")``."""
    ns, sep, name = key.partition("/")
    if not sep:
        return "", key
    if not ns or not name or "/" in name:
        raise ValueError(f"unexpected key format: {key!r}")
    return ns, name
