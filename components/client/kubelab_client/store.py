"""A thread-safe, indexed object cache (client-go ``cache.ThreadSafeStore`` and ``cache.Indexer``).

:class:`ThreadSafeStore` maps keys to objects and keeps every index up to date on each
write; :class:`Indexer` adds a key function, so callers pass objects. Reads return the
stored objects themselves (no copy): treat them as read-only.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kubelab_client.indexers import Indexers, IndexFunc, default_indexers
from kubelab_client.keys import KeyFunc, meta_namespace_key
from kubelab_client.objects import resource_version

ObjList = list[Any]
KeyList = list[str]


class UnknownIndexError(KeyError):
    """No index of that name."""


@dataclass
class ReplaceResult:
    """What :meth:`ThreadSafeStore.replace` changed: keys added, updated (content differed) and deleted."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0


def _same(old: Any, new: Any) -> bool:
    old_rv, new_rv = resource_version(old), resource_version(new)
    if old_rv and new_rv:
        return bool(old_rv == new_rv)
    return bool(old == new)


class ThreadSafeStore:
    def __init__(self, indexers: Indexers | None = None) -> None:
        self._lock = threading.RLock()
        self._items: dict[str, Any] = {}
        self._indexers: Indexers = dict(indexers or {})
        # index name → index value → keys
        self._indices: dict[str, dict[str, set[str]]] = {name: {} for name in self._indexers}

    # writes
    def add(self, key: str, obj: Any) -> None:
        self.update(key, obj)

    def update(self, key: str, obj: Any) -> None:
        with self._lock:
            old = self._items.get(key)
            self._items[key] = obj
            self._reindex(key, old, obj)

    def delete(self, key: str) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._reindex(key, old, None)

    def replace(self, items: dict[str, Any], resource_version: str = "") -> ReplaceResult:
        """Make the contents exactly ``items``; report which keys were added, updated, deleted."""
        result = ReplaceResult()
        with self._lock:
            for key, old in self._items.items():
                if key not in items:
                    result.deleted.append(key)
                elif _same(old, items[key]):
                    result.unchanged += 1
                else:
                    result.updated.append(key)
            result.added = [key for key in items if key not in self._items]
            self._items = dict(items)
            self._indices = {name: {} for name in self._indexers}
            for key, obj in self._items.items():
                self._reindex(key, None, obj)
        return result

    # reads
    def get(self, key: str) -> Any | None:
        with self._lock:
            return self._items.get(key)

    def list(self) -> ObjList:
        with self._lock:
            return list(self._items.values())

    def list_keys(self) -> KeyList:
        with self._lock:
            return list(self._items)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    # indices
    def index(self, index_name: str, obj: Any) -> ObjList:
        """Objects sharing any index value with ``obj`` under ``index_name``."""
        with self._lock:
            index_func = self._index_func(index_name)
            keys: set[str] = set()
            for value in index_func(obj):
                keys |= self._indices[index_name].get(value, set())
            return [self._items[k] for k in sorted(keys)]

    def by_index(self, index_name: str, value: str) -> ObjList:
        with self._lock:
            return [self._items[k] for k in self.index_keys(index_name, value)]

    def index_keys(self, index_name: str, value: str) -> KeyList:
        with self._lock:
            self._index_func(index_name)
            return sorted(self._indices[index_name].get(value, set()))

    def list_index_values(self, index_name: str) -> KeyList:
        with self._lock:
            self._index_func(index_name)
            return sorted(self._indices[index_name])

    def indexers(self) -> Indexers:
        with self._lock:
            return dict(self._indexers)

    def add_indexers(self, indexers: Indexers) -> None:
        """Add indexes (also allowed with items present: they are indexed at once)."""
        with self._lock:
            clash = set(indexers) & set(self._indexers)
            if clash:
                raise ValueError(f"indexer(s) already exist: {sorted(clash)}")
            for name, func in indexers.items():
                self._indexers[name] = func
                index: dict[str, set[str]] = {}
                self._indices[name] = index
                for key, obj in self._items.items():
                    for value in func(obj):
                        index.setdefault(value, set()).add(key)

    def _index_func(self, index_name: str) -> IndexFunc:
        try:
            return self._indexers[index_name]
        except KeyError:
            raise UnknownIndexError(index_name) from None

    def _reindex(self, key: str, old: Any | None, new: Any | None) -> None:
        for name, func in self._indexers.items():
            old_values = set(func(old)) if old is not None else set()
            new_values = set(func(new)) if new is not None else set()
            if old_values == new_values:
                continue
            index = self._indices[name]
            for value in old_values - new_values:
                keys = index.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[value]
            for value in new_values - old_values:
                index.setdefault(value, set()).add(key)


class Indexer:
    """An indexed store keyed by a key function (``namespace/name`` by default), namespace index built in."""

    def __init__(self, key_func: KeyFunc = meta_namespace_key, indexers: Indexers | None = None) -> None:
        self.key_func = key_func
        self._store = ThreadSafeStore({**default_indexers(), **(indexers or {})})

    def add(self, obj: Any) -> None:
        self._store.add(self.key_func(obj), obj)

    def update(self, obj: Any) -> None:
        self._store.update(self.key_func(obj), obj)

    def delete(self, obj: Any) -> None:
        self._store.delete(self.key_func(obj))

    def replace(self, objs: Iterable[Any], resource_version: str = "") -> ReplaceResult:
        return self._store.replace({self.key_func(obj): obj for obj in objs}, resource_version)

    def resync(self) -> None:
        """Nothing to do for a plain store (a :class:`~kubelab_client.delta_fifo.DeltaFIFO` re-emits)."""

    def get(self, obj: Any) -> Any | None:
        return self._store.get(self.key_func(obj))

    def get_by_key(self, key: str) -> Any | None:
        return self._store.get(key)

    def list(self) -> ObjList:
        return self._store.list()

    def list_keys(self) -> KeyList:
        return self._store.list_keys()

    def index(self, index_name: str, obj: Any) -> ObjList:
        return self._store.index(index_name, obj)

    def by_index(self, index_name: str, value: str) -> ObjList:
        return self._store.by_index(index_name, value)

    def index_keys(self, index_name: str, value: str) -> KeyList:
        return self._store.index_keys(index_name, value)

    def list_index_values(self, index_name: str) -> KeyList:
        return self._store.list_index_values(index_name)

    def indexers(self) -> Indexers:
        return self._store.indexers()

    def add_indexers(self, indexers: Indexers) -> None:
        self._store.add_indexers(indexers)

    def __contains__(self, key: object) -> bool:
        return key in self._store

    def __len__(self) -> int:
        return len(self._store)
