"""Reflector: keep a store in step with one collection by list-then-watch (client-go ``cache.Reflector``).

The loop, until ``stop`` is set:

1. **List** (paginated, ``limit``/``continue``) and ``store.replace(items, rv)``. The first list
   asks for ``resourceVersion=0`` (any state the server has cached); a relist asks for "not
   older than" the last RV it saw; if that RV is gone too (410), for the latest ("").
2. **Watch** from the list's RV with ``allowWatchBookmarks=true`` and a random
   ``timeoutSeconds`` (so the server ends it; the client also has a read timeout a little
   longer, so a dead connection cannot stall it). Every event, and every ``BOOKMARK``,
   advances the RV; a watch that ends is resumed from the last RV, without a list.
3. **410 Gone** (HTTP status, or an ``ERROR`` event with code 410, "Expired"/"Gone"): the
   RV is too old to resume from, so back to 1; ``replace`` lets the store compute what was
   deleted or changed meanwhile (a DeltaFIFO turns it into ``Deleted`` tombstones).
4. **Other errors** (429, 5xx, an ``ERROR`` event, a dropped connection, a read timeout, a
   watch that ends at once with nothing): wait ``Backoff.next_delay()`` (exponential, with
   jitter; at least ``Retry-After`` for a 429), then resume. Progress (an event) resets it.

``stop`` is a :class:`threading.Event`; setting it closes an open watch at once.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from kubelab_client.backoff import Backoff
from kubelab_client.errors import ApiError, ClientError, ShortWatch
from kubelab_client.listwatch import (
    ADDED,
    BOOKMARK,
    DELETED,
    ERROR,
    MODIFIED,
    ListerWatcher,
    ListOptions,
    WatchOptions,
    WatchStream,
)
from kubelab_client.objects import KubeObject, resource_version

log = logging.getLogger(__name__)


class ReflectorStore(Protocol):
    def add(self, obj: Any) -> None: ...

    def update(self, obj: Any) -> None: ...

    def delete(self, obj: Any) -> None: ...

    def replace(self, objs: list[KubeObject], resource_version: str) -> Any: ...


@dataclass
class ReflectorOptions:
    page_size: int | None = 500
    # the server ends each watch after timeoutSeconds, drawn from this range (client-go: 5-10 min)
    watch_timeout: tuple[float, float] = (300.0, 600.0)
    # client read timeout = timeoutSeconds + this, unless read_timeout is given
    read_timeout_grace: float = 30.0
    read_timeout: float | None = None
    backoff: Callable[[], Backoff] = Backoff
    # a watch that ends normally sooner than this, with no event, counts as an error
    short_watch: float = 1.0
    rng: random.Random = field(default_factory=random.Random)


@dataclass
class Retry:
    at: float  # time.monotonic() when the error happened
    error: str
    delay: float


@dataclass
class ReflectorStats:
    lists: int = 0
    watches: int = 0
    events: int = 0
    bookmarks: int = 0
    gone: int = 0
    errors: int = 0
    retries: deque[Retry] = field(default_factory=lambda: deque(maxlen=256))


class Reflector:
    def __init__(
        self,
        lister_watcher: ListerWatcher,
        store: ReflectorStore,
        *,
        name: str = "reflector",
        options: ReflectorOptions | None = None,
    ) -> None:
        self.lister_watcher = lister_watcher
        self.store = store
        self.name = name
        self.options = options or ReflectorOptions()
        self.stats = ReflectorStats()
        self._backoff = self.options.backoff()
        self._last_sync_rv = ""
        self._rv_unavailable = False
        self._progress = False
        self._lock = threading.Lock()
        self._current: WatchStream | None = None
        self._stop: threading.Event | None = None

    @property
    def last_sync_resource_version(self) -> str:
        return self._last_sync_rv

    def run(self, stop: threading.Event) -> None:
        """List and watch until ``stop`` is set. Never returns early, never raises."""
        self._stop = stop
        closer = threading.Thread(target=self._close_on_stop, args=(stop,), name=f"{self.name}-closer", daemon=True)
        closer.start()
        need_list = True
        while not stop.is_set():
            delay = 0.0
            try:
                if need_list:
                    self._list_and_replace()
                    need_list = False
                self._watch(stop)
            except ApiError as exc:
                if stop.is_set():
                    break
                if exc.is_gone:
                    need_list = True
                    delay = self._on_gone()
                else:
                    delay = self._backoff.next_delay()
                    if exc.retry_after is not None:
                        delay = max(delay, exc.retry_after)
                self._record(exc, delay)
            except ClientError as exc:  # ConnectionLost, ShortWatch, an undecodable list
                if stop.is_set():
                    break
                delay = self._backoff.next_delay()
                self._record(exc, delay)
            except Exception as exc:  # a bug in a store must not kill the reflector silently
                if stop.is_set():
                    break
                log.exception("%s: unexpected error", self.name)
                delay = self._backoff.next_delay()
                self._record(exc, delay)
            if delay > 0:
                stop.wait(delay)

    def _on_gone(self) -> float:
        # >>> solution 2.8
        """410 Gone: the watch's RV is older than what the server keeps; the caller relists.

        Counts it and returns how long to wait first: a healthy watch that expired relists at
        once; a 410 right after a (re)list, with no progress, backs off.
        """
        self.stats.gone += 1
        return 0.0 if self._progress else self._backoff.next_delay()
        # === starter
        # """410 Gone: the watch's RV is older than what the server keeps; the caller relists.
        #
        # TODO(2.8): count it in ``self.stats.gone`` (the lab checks it) and return how long to
        # wait before the relist: 0 if the watch had made progress (``self._progress``), else
        # ``self._backoff.next_delay()``, so a server that answers 410 at once is not hammered.
        # """
        # log.error("%s: TODO(2.8) Reflector._on_gone is not written: the reflector stops here", self.name)
        # raise NotImplementedError("TODO(2.8): Reflector._on_gone (count the 410, return the delay before relisting)")
        # <<< solution

    def _record(self, exc: Exception, delay: float) -> None:
        self.stats.errors += 1
        self._progress = False
        self.stats.retries.append(Retry(time.monotonic(), f"{type(exc).__name__}: {exc}", delay))
        log.info("%s: %s: %s; retrying in %.3f s", self.name, type(exc).__name__, exc, delay)

    def _relist_rv(self) -> tuple[str, str | None]:
        """Which ``resourceVersion`` (and ``resourceVersionMatch``) the next list asks for."""
        # >>> solution 2.8
        if self._rv_unavailable:
            return "", None  # the latest, a consistent read
        if not self._last_sync_rv:
            return "0", None  # the first list: whatever the server has cached
        return self._last_sync_rv, "NotOlderThan"
        # === starter
        # if not self._last_sync_rv:
        #     return "0", None  # the first list: whatever the server has cached
        # # TODO(2.8): a relist. If the last list itself got 410 (self._rv_unavailable), ask for the
        # # latest state: ("", None), a consistent read from etcd. Otherwise ask for state not older
        # # than what we saw: (self._last_sync_rv, "NotOlderThan"), which the watch cache can serve.
        # log.error("%s: TODO(2.8) Reflector._relist_rv is not written", self.name)
        # raise NotImplementedError("TODO(2.8): Reflector._relist_rv (which resourceVersion a relist asks for)")
        # <<< solution

    def _list_and_replace(self) -> None:
        rv, match = self._relist_rv()
        options = ListOptions(rv, match, self.options.page_size)
        items: list[KubeObject] = []
        while True:
            try:
                page = self.lister_watcher.list(options)
            except ApiError as exc:
                if exc.is_gone and options.continue_token:
                    # the continue token expired between pages: start over, in one piece
                    log.info("%s: continue token expired; listing without pages", self.name)
                    options, items = ListOptions(""), []
                    continue
                if exc.is_gone:
                    self._rv_unavailable = True
                raise
            items.extend(page.items)
            if not page.continue_token:
                break
            options = ListOptions(limit=self.options.page_size, continue_token=page.continue_token)
        self.stats.lists += 1
        self.store.replace(items, page.resource_version)
        self._last_sync_rv = page.resource_version
        self._rv_unavailable = False

    def _watch(self, stop: threading.Event) -> None:
        low, high = self.options.watch_timeout
        timeout_seconds = max(1, int(self.options.rng.uniform(low, high)))
        read_timeout = self.options.read_timeout or timeout_seconds + self.options.read_timeout_grace
        stream = self.lister_watcher.watch(
            WatchOptions(self._last_sync_rv, timeout_seconds, allow_bookmarks=True, read_timeout=read_timeout)
        )
        with self._lock:
            self._current = stream
        if stop.is_set():
            stream.close()
        self.stats.watches += 1
        started, received = time.monotonic(), 0
        try:
            for event in stream:
                if stop.is_set():
                    return
                received += 1
                obj = event.obj
                if event.type == ERROR:
                    raise ApiError.from_status(obj)
                if event.type == ADDED:
                    self.store.add(obj)
                elif event.type == MODIFIED:
                    self.store.update(obj)
                elif event.type == DELETED:
                    self.store.delete(obj)
                elif event.type == BOOKMARK:
                    self.stats.bookmarks += 1
                else:
                    log.warning("%s: unknown watch event type %r", self.name, event.type)
                    continue
                self.stats.events += 1
                rv = resource_version(obj)
                if rv:
                    self._last_sync_rv = rv
                if not self._progress:
                    self._progress = True
                    self._backoff.reset()
        finally:
            with self._lock:
                self._current = None
            stream.close()
        if not stop.is_set() and received == 0 and time.monotonic() - started < self.options.short_watch:
            raise ShortWatch("watch ended at once with no event")

    def _close_on_stop(self, stop: threading.Event) -> None:
        stop.wait()
        with self._lock:
            current = self._current
        if current is not None:
            current.close()
