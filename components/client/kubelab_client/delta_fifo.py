"""DeltaFIFO: the queue between a reflector and an informer (client-go ``cache.DeltaFIFO``).

Per key it accumulates the *deltas* (Added, Updated, Deleted, Replaced, Sync) not yet
processed, and hands out keys in first-in order, all deltas of a key at once, so a consumer
sees every state transition but never two of the same key concurrently.

``replace`` (the reflector's relist) queues ``Replaced`` for each listed object and a
``Deleted`` with a :class:`~kubelab_client.keys.DeletedFinalStateUnknown` tombstone for
every key the consumer's store (``known_objects``) or the queue holds that the list lacks.
``resync`` queues ``Sync`` for every known object not already queued.

``pop`` runs the consumer's function *under the queue's lock*, as client-go does: a relist
computing deletions from ``known_objects`` then never races an object being moved into it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from kubelab_client.keys import DeletedFinalStateUnknown, KeyFunc, meta_namespace_key


class DeltaType(StrEnum):
    ADDED = "Added"
    UPDATED = "Updated"
    DELETED = "Deleted"
    REPLACED = "Replaced"
    SYNC = "Sync"


@dataclass(frozen=True)
class Delta:
    type: DeltaType
    obj: Any  # a KubeObject, or a DeletedFinalStateUnknown for an inferred delete


class KnownObjects(Protocol):
    def list_keys(self) -> list[str]: ...

    def get_by_key(self, key: str) -> Any | None: ...


class FIFOClosedError(Exception):
    """``pop`` on a closed, empty queue."""


Process = Callable[[list[Delta], bool], None]


class DeltaFIFO:
    def __init__(self, key_func: KeyFunc = meta_namespace_key, known_objects: KnownObjects | None = None) -> None:
        self._key_func = key_func
        self._known = known_objects
        self._cond = threading.Condition(threading.RLock())
        self._items: dict[str, list[Delta]] = {}
        self._queue: deque[str] = deque()
        self._populated = False
        self._initial_population = 0
        self._closed = False
        self.synced = threading.Event()  # set once has_synced() is true (stays set)

    # producer side (the reflector)
    def add(self, obj: Any) -> None:
        with self._cond:
            self._populated = True
            self._queue_action(DeltaType.ADDED, obj)
            self._check_synced()

    def update(self, obj: Any) -> None:
        with self._cond:
            self._populated = True
            self._queue_action(DeltaType.UPDATED, obj)
            self._check_synced()

    def delete(self, obj: Any) -> None:
        key = self._key_func(obj)
        with self._cond:
            self._populated = True
            self._check_synced()
            known = self._known is not None and self._known.get_by_key(key) is not None
            if not known and key not in self._items:
                return  # a delete of something never seen, or already deleted
            self._queue_action(DeltaType.DELETED, obj)

    def replace(self, objs: Iterable[Any], resource_version: str = "") -> None:
        with self._cond:
            listed: set[str] = set()
            for obj in objs:
                listed.add(self._key_func(obj))
                self._queue_action(DeltaType.REPLACED, obj)
            gone = (set(self._items) | set(self._known.list_keys() if self._known else ())) - listed
            for key in sorted(gone):
                queued = self._items.get(key)
                if queued:
                    if queued[-1].type is DeltaType.DELETED:
                        continue
                    last = queued[-1].obj
                else:
                    last = self._known.get_by_key(key) if self._known else None
                if isinstance(last, DeletedFinalStateUnknown):
                    last = last.obj
                self._queue_action(DeltaType.DELETED, DeletedFinalStateUnknown(key, last))
            if not self._populated:
                self._populated = True
                self._initial_population = len(self._queue)
                self._check_synced()

    def resync(self) -> None:
        """Queue a ``Sync`` for every known object that has nothing queued."""
        if self._known is None:
            return
        with self._cond:
            for key in self._known.list_keys():
                if key in self._items:
                    continue
                obj = self._known.get_by_key(key)
                if obj is not None:
                    self._queue_action(DeltaType.SYNC, obj)

    # consumer side (the informer)
    def pop(self, process: Process, timeout: float | None = None) -> bool:
        """Wait for a key, then run ``process(deltas, is_in_initial_list)`` under the lock.

        False if ``timeout`` passed first; raises :class:`FIFOClosedError` once closed and empty.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._queue:
                if self._closed:
                    raise FIFOClosedError
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
            key = self._queue.popleft()
            deltas = self._items.pop(key)
            initial = self._initial_population > 0
            if initial:
                self._initial_population -= 1
            try:
                process(deltas, initial)
            finally:
                self._check_synced()
            return True

    def has_synced(self) -> bool:
        """The first ``replace`` (or any add) happened and what it queued has all been popped."""
        with self._cond:
            return self._populated and self._initial_population == 0

    def _check_synced(self) -> None:
        if not self.synced.is_set() and self._populated and self._initial_population == 0:
            self.synced.set()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def list_keys(self) -> list[str]:
        with self._cond:
            return list(self._queue)

    def deltas(self, key: str) -> list[Delta]:
        with self._cond:
            return list(self._items.get(key, ()))

    def __len__(self) -> int:
        with self._cond:
            return len(self._queue)

    def _queue_action(self, type_: DeltaType, obj: Any) -> None:
        key = self._key_func(obj)
        deltas = self._items.get(key)
        new = Delta(type_, obj)
        if deltas is None:
            self._items[key] = [new]
            self._queue.append(key)
            self._cond.notify()
            return
        if type_ is DeltaType.DELETED and deltas[-1].type is DeltaType.DELETED:
            # two deletes in a row: keep the one that knows more (a real object over a tombstone)
            if isinstance(deltas[-1].obj, DeletedFinalStateUnknown) and not isinstance(obj, DeletedFinalStateUnknown):
                deltas[-1] = new
            return
        deltas.append(new)
