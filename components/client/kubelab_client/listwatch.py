"""ListerWatcher: how a reflector lists and watches one collection (client-go ``cache.ListWatch``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from kubelab_client.errors import ClientError, ConnectionLost
from kubelab_client.kube import Api, LineStream
from kubelab_client.objects import KubeObject
from kubelab_client.resources import Resource

# watch event types
ADDED, MODIFIED, DELETED, BOOKMARK, ERROR = "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"


@dataclass(frozen=True)
class ListOptions:
    resource_version: str = ""
    resource_version_match: str | None = None
    limit: int | None = None
    continue_token: str | None = None


@dataclass(frozen=True)
class WatchOptions:
    resource_version: str
    timeout_seconds: int | None = None
    allow_bookmarks: bool = True
    read_timeout: float | None = None  # client side: no byte for this long → ConnectionLost


@dataclass
class ListPage:
    items: list[KubeObject]
    resource_version: str
    continue_token: str | None = None
    remaining: int | None = None


@dataclass(frozen=True)
class WatchEvent:
    type: str
    obj: KubeObject = field(repr=False)


class WatchStream(Protocol):
    def __iter__(self) -> Iterator[WatchEvent]: ...

    def close(self) -> None: ...


class ListerWatcher(Protocol):
    def list(self, options: ListOptions) -> ListPage: ...

    def watch(self, options: WatchOptions) -> WatchStream: ...


class JSONWatchStream:
    """Watch events decoded from the JSON lines of a ``?watch=1`` response."""

    def __init__(self, lines: LineStream) -> None:
        self._lines = lines

    def __iter__(self) -> Iterator[WatchEvent]:
        for line in self._lines:
            try:
                event = json.loads(line)
                yield WatchEvent(str(event["type"]), event["object"])
            except (ValueError, KeyError, TypeError) as exc:
                raise ConnectionLost(f"undecodable watch event: {line[:200]!r}") from exc

    def close(self) -> None:
        self._lines.close()


class ListWatch:
    """Lists and watches ``resource`` through an :class:`~kubelab_client.kube.Api`, optionally in one
    namespace and filtered by label and field selectors."""

    def __init__(
        self,
        api: Api,
        resource: Resource,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> None:
        self.api = api
        self.resource = resource
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector

    def _path(self) -> str:
        return self.resource.collection_path(self.namespace)

    def list(self, options: ListOptions) -> ListPage:
        body = self.api.request(
            "GET",
            self._path(),
            {
                "labelSelector": self.label_selector,
                "fieldSelector": self.field_selector,
                "resourceVersion": options.resource_version,
                "resourceVersionMatch": options.resource_version_match,
                "limit": options.limit,
                "continue": options.continue_token,
            },
        )
        meta = body.get("metadata") or {}
        items = body.get("items")
        if not isinstance(items, list):
            raise ClientError(f"list of {self.resource} has no items: {body!r:.200}")
        for item in items:  # a list's items carry no kind/apiVersion; watch events' objects do
            item.setdefault("apiVersion", self.resource.api_version)
            item.setdefault("kind", self.resource.kind)
        remaining = meta.get("remainingItemCount")
        return ListPage(
            items,
            str(meta.get("resourceVersion") or ""),
            meta.get("continue") or None,
            int(remaining) if remaining is not None else None,
        )

    def watch(self, options: WatchOptions) -> WatchStream:
        lines = self.api.stream(
            self._path(),
            {
                "watch": "1",
                "labelSelector": self.label_selector,
                "fieldSelector": self.field_selector,
                "resourceVersion": options.resource_version,
                "allowWatchBookmarks": options.allow_bookmarks or None,
                "timeoutSeconds": options.timeout_seconds,
            },
            options.read_timeout,
        )
        return JSONWatchStream(lines)
