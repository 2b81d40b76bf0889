"""SharedIndexInformer: one reflector, one cache, many handlers (client-go ``cache.SharedIndexInformer``).

Data flow, as in client-go::

    Reflector ──add/update/delete/replace──▶ DeltaFIFO ──pop──▶ handle_deltas
                                                                  ├─▶ Indexer (the cache)
                                                                  └─▶ each listener's buffer ──thread──▶ handler

* ``handle_deltas`` updates the indexer first, so a handler that reads the cache sees at
  least the state it is told about. ``Replaced``/``Sync``/``Added``/``Updated`` of a key
  the cache has become ``on_update(old, new)``, of one it lacks ``on_add``; ``Deleted``
  becomes ``on_delete`` with the object or, after a relist, a ``DeletedFinalStateUnknown``.
* Each handler has its own thread and an unbounded buffer: a slow handler delays only
  itself, and each handler sees the events in order.
* Resync: every ``resync_period`` seconds (per handler; 0 = never) the cache is replayed
  as ``on_update(obj, obj)`` to the handlers that are due, for level-triggered controllers.
* A handler added to a running informer first gets ``on_add`` for everything cached.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from kubelab_client.delta_fifo import Delta, DeltaFIFO, DeltaType, FIFOClosedError
from kubelab_client.indexers import Indexers
from kubelab_client.keys import KeyFunc, meta_namespace_key
from kubelab_client.listwatch import ListerWatcher
from kubelab_client.objects import resource_version
from kubelab_client.reflector import Reflector, ReflectorOptions
from kubelab_client.store import Indexer

log = logging.getLogger(__name__)


class ResourceEventHandler(Protocol):
    def on_add(self, obj: Any, is_in_initial_list: bool) -> None: ...

    def on_update(self, old: Any, new: Any) -> None: ...

    def on_delete(self, obj: Any) -> None:
        """``obj`` is the last known object, or a :class:`~kubelab_client.keys.DeletedFinalStateUnknown`."""
        ...


@dataclass
class HandlerFuncs:
    """A :class:`ResourceEventHandler` from optional functions (client-go ``ResourceEventHandlerFuncs``)."""

    add: Callable[[Any], None] | None = None
    update: Callable[[Any, Any], None] | None = None
    delete: Callable[[Any], None] | None = None

    def on_add(self, obj: Any, is_in_initial_list: bool) -> None:
        if self.add:
            self.add(obj)

    def on_update(self, old: Any, new: Any) -> None:
        if self.update:
            self.update(old, new)

    def on_delete(self, obj: Any) -> None:
        if self.delete:
            self.delete(obj)


@dataclass(frozen=True)
class _Notification:
    kind: str  # "add", "update", "delete"
    obj: Any
    old: Any = None
    initial: bool = False


class _Listener:
    """One handler: an unbounded buffer drained by its own thread (client-go ``processorListener``)."""

    def __init__(self, handler: ResourceEventHandler, resync_period: float, name: str) -> None:
        self.handler = handler
        self.resync_period = resync_period
        self.next_resync = time.monotonic() + resync_period if resync_period > 0 else float("inf")
        self._cond = threading.Condition()
        self._buffer: deque[_Notification] = deque()
        self._stopped = False
        self._idle = True
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def push(self, notification: _Notification) -> None:
        with self._cond:
            self._buffer.append(notification)
            self._idle = False
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def join(self, timeout: float | None = None) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    def wait_idle(self, timeout: float | None = None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._idle or self._stopped, timeout)

    def pending(self) -> int:
        with self._cond:
            return len(self._buffer)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._buffer and not self._stopped:
                    self._idle = True
                    self._cond.notify_all()
                    self._cond.wait()
                if self._stopped:
                    return
                notification = self._buffer.popleft()
            try:
                if notification.kind == "add":
                    self.handler.on_add(notification.obj, notification.initial)
                elif notification.kind == "update":
                    self.handler.on_update(notification.old, notification.obj)
                else:
                    self.handler.on_delete(notification.obj)
            except Exception:
                log.exception("event handler %r failed on %s", self.handler, notification.kind)


class HandlerRegistration:
    def __init__(self, listener: _Listener) -> None:
        self._listener = listener

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until this handler has processed everything delivered to it so far."""
        return self._listener.wait_idle(timeout)


class SharedInformer:
    def __init__(
        self,
        lister_watcher: ListerWatcher,
        *,
        resync_period: float = 0.0,
        indexers: Indexers | None = None,
        key_func: KeyFunc = meta_namespace_key,
        name: str = "informer",
        reflector_options: ReflectorOptions | None = None,
        resync_check_period: float | None = None,
    ) -> None:
        self.name = name
        self.lister_watcher = lister_watcher
        self.default_resync_period = resync_period
        self.indexer = Indexer(key_func, indexers)
        self.fifo = DeltaFIFO(key_func, known_objects=self.indexer)
        self.reflector = Reflector(lister_watcher, self.fifo, name=f"{name}-reflector", options=reflector_options)
        self._resync_check_period = resync_check_period
        self._listeners: list[_Listener] = []
        self._sync_listeners: list[_Listener] = []
        self._lock = threading.RLock()  # guards listeners; held while deltas are handled
        self._started = False
        self._threads: list[threading.Thread] = []

    # handlers
    def add_event_handler(
        self, handler: ResourceEventHandler, resync_period: float | None = None
    ) -> HandlerRegistration:
        period = self.default_resync_period if resync_period is None else resync_period
        with self._lock:
            listener = _Listener(handler, period, f"{self.name}-handler-{len(self._listeners)}")
            self._listeners.append(listener)
            if self._started:
                listener.start()
                for obj in self.indexer.list():
                    listener.push(_Notification("add", obj, initial=True))
        return HandlerRegistration(listener)

    def remove_event_handler(self, registration: HandlerRegistration) -> None:
        with self._lock:
            listener = registration._listener
            if listener in self._listeners:
                self._listeners.remove(listener)
                listener.stop()

    # state
    def has_synced(self) -> bool:
        return self.fifo.synced.is_set()

    def wait_for_cache_sync(self, timeout: float | None = None) -> bool:
        """Wait until the first list is in the cache (and handed to the handlers' buffers)."""
        return self.fifo.synced.wait(timeout)

    @property
    def last_sync_resource_version(self) -> str:
        return self.reflector.last_sync_resource_version

    # running
    def start(self, stop: threading.Event) -> threading.Thread:
        """Run in a background thread; returns it (it ends after ``stop`` is set)."""
        thread = threading.Thread(target=self.run, args=(stop,), name=self.name, daemon=True)
        thread.start()
        return thread

    def run(self, stop: threading.Event) -> None:
        """Start the reflector, the processing loop and the handlers; block until ``stop`` is set."""
        with self._lock:
            if self._started:
                raise RuntimeError(f"{self.name} already started")
            self._started = True
            for listener in self._listeners:
                listener.start()
        threads = [
            threading.Thread(target=self.reflector.run, args=(stop,), name=f"{self.name}-reflector", daemon=True),
            threading.Thread(target=self._process_loop, name=f"{self.name}-process", daemon=True),
            threading.Thread(target=self._resync_loop, args=(stop,), name=f"{self.name}-resync", daemon=True),
        ]
        for thread in threads:
            thread.start()
        self._threads = threads
        stop.wait()
        self.fifo.close()
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener.stop()
        for thread in threads:
            thread.join(5.0)
        for listener in listeners:
            listener.join(5.0)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until the queue is drained and every handler has caught up (for tests and benchmarks)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            listeners = list(self._listeners)
        while len(self.fifo):
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.001)
        return all(
            listener.wait_idle(None if deadline is None else max(0.0, deadline - time.monotonic()))
            for listener in listeners
        )

    def _min_resync_period(self) -> float:
        with self._lock:
            periods = [listener.resync_period for listener in self._listeners if listener.resync_period > 0]
        if self.default_resync_period > 0:
            periods.append(self.default_resync_period)
        return min(periods, default=0.0)

    def _resync_loop(self, stop: threading.Event) -> None:
        while True:
            period = self._min_resync_period()
            check = self._resync_check_period or (max(0.01, period / 2) if period > 0 else 1.0)
            if stop.wait(check):
                return
            if period > 0 and self._should_resync():
                self.fifo.resync()

    def _should_resync(self) -> bool:
        now = time.monotonic()
        with self._lock:
            self._sync_listeners = [listener for listener in self._listeners if now >= listener.next_resync]
            for listener in self._sync_listeners:
                listener.next_resync = now + listener.resync_period
            return bool(self._sync_listeners)

    def _process_loop(self) -> None:
        while True:
            try:
                self.fifo.pop(self._handle_deltas)
            except FIFOClosedError:
                return
            except Exception:
                log.exception("%s: handling deltas failed", self.name)

    def _handle_deltas(self, deltas: list[Delta], is_in_initial_list: bool) -> None:
        with self._lock:
            for delta in deltas:
                obj = delta.obj
                if delta.type is DeltaType.DELETED:
                    self.indexer.delete(obj)
                    self._distribute(_Notification("delete", obj), sync=False)
                    continue
                old = self.indexer.get(obj)
                if old is None:
                    self.indexer.add(obj)
                    self._distribute(_Notification("add", obj, initial=is_in_initial_list), sync=False)
                    continue
                self.indexer.update(obj)
                is_sync = delta.type is DeltaType.SYNC or (
                    delta.type is DeltaType.REPLACED and resource_version(old) == resource_version(obj) != ""
                )
                self._distribute(_Notification("update", obj, old=old), sync=is_sync)

    def _distribute(self, notification: _Notification, *, sync: bool) -> None:
        for listener in self._sync_listeners if sync else self._listeners:
            listener.push(notification)
