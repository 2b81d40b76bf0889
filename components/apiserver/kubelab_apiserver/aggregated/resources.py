"""What the server knows about each resource it serves: names, scope, the types of its spec and
status, the columns of ``kubectl get``, the fields it selects on and how its lists merge.

One :class:`ResourceType` drives everything else: discovery, OpenAPI, the REST handlers, the
table printer, validation, strategic merge patches and the storage keys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from kubelab_client.selectors import DEFAULT_FIELDS, FieldGetter

Object = dict[str, Any]
VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
STATUS_VERBS = ["get", "patch", "update"]


@dataclass(frozen=True)
class Column:
    """A column of the server-side table (``kubectl get``): a name, an OpenAPI type and where the cell comes from."""

    name: str
    type: str  # string, integer, number, boolean, date
    cell: Callable[[Object], Any]
    description: str = ""
    priority: int = 0  # 0: always shown; 1: with -o wide
    format: str = ""


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    spec: type[BaseModel]
    status: type[BaseModel] | None = None
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    columns: tuple[Column, ...] = ()
    fields: Mapping[str, FieldGetter] = field(default_factory=lambda: dict(DEFAULT_FIELDS))
    merge_keys: Mapping[str, str] = field(default_factory=dict)  # strategic merge: list path → key field
    description: str = ""

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}"

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def group_resource(self) -> str:
        """``books.books.kubelab.dev``: how messages name the resource."""
        return f"{self.plural}.{self.group}"

    @property
    def scope(self) -> str:
        return "Namespaced" if self.namespaced else "Cluster"

    def prefix(self, namespace: str | None = None) -> str:
        """The storage prefix of every object (``namespace`` None) or of one namespace's objects."""
        base = f"/registry/{self.group}/{self.plural}/"
        return base + f"{namespace}/" if self.namespaced and namespace else base

    def key(self, namespace: str | None, name: str) -> str:
        return self.prefix(namespace if self.namespaced else None) + name
