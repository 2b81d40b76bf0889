"""The storage interface the aggregated server's REST layer uses, and what every backend promises.

Objects are JSON documents stored under keys such as ``/registry/<group>/<resource>/<ns>/<name>``.
The store, not the object, owns ``metadata.resourceVersion``: a backend strips it before writing
and sets it when it reads, from the revision of the write (etcd's ``mod_revision``).

Guarantees (the suite in tests/storage_suite.py checks each against every backend):

* **Monotonic resourceVersions.** Every write (create, update, delete) gets a revision larger
  than any before it, across all keys; a list carries the revision it was read at.
* **Optimistic concurrency.** :meth:`Storage.update` and :meth:`Storage.delete` take the
  resourceVersion the writer read; if the object changed since, :class:`~.errors.Conflict`
  (409) and nothing is written. :func:`guaranteed_update` is the read-modify-write loop for
  writers without one.
* **Consistent pages.** A list with ``limit`` returns a continue token; the next pages are read
  at the first page's revision, so paging sees one snapshot.
* **Watch from a resourceVersion.** :meth:`Storage.watch` yields every change after the given
  revision, in order (ADDED, MODIFIED, DELETED; a deletion carries the last state of the object
  at the deletion's revision), then new changes as they happen.
* **Compaction.** :meth:`Storage.compact` forgets history below a revision; a watch, a read at
  or a continue token from below it is :class:`~.errors.Expired` (410): the client relists.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from kubelab_apiserver.storage.errors import Conflict, Expired, StorageError

Object = dict[str, Any]
EventType = Literal["ADDED", "MODIFIED", "DELETED"]


@dataclass(frozen=True)
class Event:
    type: EventType
    key: str
    object: Object
    revision: int


@dataclass(frozen=True)
class Page:
    items: list[Object]
    revision: int  # what the list was read at: the list's metadata.resourceVersion
    continue_token: str = ""  # empty on the last page
    remaining: int | None = None  # items after this page, when the backend knows


class Storage(Protocol):
    """One storage backend (etcd, SQLite)."""

    name: str

    async def create(self, key: str, obj: Object) -> Object:
        """Store a new object; it comes back with its resourceVersion. :class:`AlreadyExists` if the key is taken."""
        ...

    async def get(self, key: str) -> Object:
        """The object at ``key``; :class:`NotFound` if there is none."""
        ...

    async def list(self, prefix: str, *, limit: int = 0, continue_token: str = "") -> Page:
        """Objects under ``prefix`` in key order, ``limit`` at a time (0: all)."""
        ...

    async def update(self, key: str, obj: Object, *, expected: int) -> Object:
        """Replace the object if its resourceVersion is still ``expected``; :class:`Conflict` if not,
        :class:`NotFound` if it is gone."""
        ...

    async def delete(self, key: str, *, expected: int | None = None) -> Object:
        """Remove the object (only if still at ``expected``, when given); returns its last state."""
        ...

    def watch(self, prefix: str, after: int) -> AsyncIterator[Event]:
        """Every change under ``prefix`` after revision ``after``, then live ones; :class:`Expired` if
        ``after`` is below the compacted revision."""
        ...

    async def revision(self) -> int:
        """The store's current revision."""
        ...

    async def compact(self, revision: int) -> None:
        """Forget the history below ``revision``."""
        ...

    async def close(self) -> None: ...


# -- what every backend shares ------------------------------------------------------------------


def encode(obj: Object) -> bytes:
    """The stored bytes: the object without its resourceVersion (the store's revision is the truth)."""
    body = dict(obj)
    meta = dict(body.get("metadata") or {})
    meta.pop("resourceVersion", None)
    body["metadata"] = meta
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def decode(data: bytes, revision: int) -> Object:
    obj: Object = json.loads(data)
    obj.setdefault("metadata", {})["resourceVersion"] = str(revision)
    return obj


def continue_token(revision: int, next_key: str) -> str:
    raw = json.dumps({"v": "kubelab.dev/v1", "rv": revision, "start": next_key}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def parse_continue(token: str, prefix: str) -> tuple[int, str]:
    """(revision, first key) of a continue token; ``ValueError`` if it is not one of ours for ``prefix``."""
    try:
        body = json.loads(base64.urlsafe_b64decode(token.encode()))
        revision, start = int(body["rv"]), str(body["start"])
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"continue key is not valid: {exc}") from exc
    if not start.startswith(prefix):
        raise ValueError("continue key is not valid: it points outside the list's range")
    return revision, start


def expired_continue(key: str, revision: int) -> Expired:
    return Expired(
        key,
        f"The provided continue parameter is too old to display a consistent list result (revision {revision} "
        "has been compacted). You can start a new list without the continue parameter.",
    )


def too_old(key: str, revision: int, compacted: int) -> Expired:
    return Expired(key, f"too old resource version: {revision} ({compacted})")


def parse_resource_version(value: str | int | None, key: str = "") -> int | None:
    """``metadata.resourceVersion`` as a revision (None when unset); a Conflict-free ``ValueError`` when
    it is not a number (the REST layer answers 400)."""
    if value in (None, ""):
        return None
    try:
        revision = int(value)
    except ValueError:
        raise ValueError(f"invalid resourceVersion {value!r}: not a number") from None
    if revision < 0:
        raise ValueError(f"invalid resourceVersion {value!r}: negative")
    return revision


async def guaranteed_update(
    storage: Storage,
    key: str,
    mutate: Callable[[Object], Object | Awaitable[Object]],
    *,
    precondition: int | None = None,
    attempts: int = 16,
) -> Object:
    """Read, ``mutate``, write back if nothing changed meanwhile, else read again (the API server's
    GuaranteedUpdate). With ``precondition`` (the resourceVersion the client sent), a change since
    is the client's conflict: 409 at once, no retry."""
    for _ in range(attempts):
        current = await storage.get(key)
        revision = int(current["metadata"]["resourceVersion"])
        if precondition is not None and precondition != revision:
            raise Conflict(key, conflict_message(key, precondition, revision))
        result = mutate(current)
        updated = await result if isinstance(result, Awaitable) else result
        try:
            return await storage.update(key, updated, expected=revision)
        except Conflict:
            if precondition is not None:
                raise
    raise StorageError(key, f"{key}: gave up after {attempts} conflicting writes")


def conflict_message(key: str, sent: int, current: int) -> str:
    return (
        f"Operation cannot be fulfilled on {key}: the object has been modified (resourceVersion {sent}, now "
        f"{current}); please apply your changes to the latest version and try again"
    )
