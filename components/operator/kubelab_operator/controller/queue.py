"""The Chapter 2 rate-limiting work queue, counted with client-go's workqueue metrics
(``workqueue_depth``, ``_adds_total``, ``_queue_duration_seconds``, ``_work_duration_seconds``,
``_retries_total``). The queue's behaviour is the Chapter 2 one, unchanged."""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import TypeVar

from kubelab_client.workqueue import RateLimitingQueue
from kubelab_operator import metrics

T = TypeVar("T", bound=Hashable)


class InstrumentedQueue(RateLimitingQueue[T]):
    def __init__(self, controller: str) -> None:
        super().__init__(name=controller)
        labels = {"name": controller, "controller": controller}
        self._depth = metrics.QUEUE_DEPTH.labels(**labels)
        self._adds = metrics.QUEUE_ADDS.labels(**labels)
        self._latency = metrics.QUEUE_LATENCY.labels(**labels)
        self._work = metrics.QUEUE_WORK.labels(**labels)
        self._retries = metrics.QUEUE_RETRIES.labels(**labels)
        self._added_at: dict[T, float] = {}
        self._started_at: dict[T, float] = {}

    def add(self, item: T) -> None:
        with self._cond:  # re-entrant: the base class takes it again
            fresh = not self._shutting_down and item not in self._dirty
            super().add(item)
            if fresh:
                self._adds.inc()
                self._added_at.setdefault(item, time.monotonic())
            self._depth.set(len(self._queue))

    def get(self, timeout: float | None = None) -> tuple[T | None, bool]:
        item, shut = super().get(timeout)
        if item is not None:
            now = time.monotonic()
            with self._cond:
                added = self._added_at.pop(item, None)
                self._started_at[item] = now
                self._depth.set(len(self._queue))
            if added is not None:
                self._latency.observe(now - added)
        return item, shut

    def done(self, item: T) -> None:
        with self._cond:
            started = self._started_at.pop(item, None)
            super().done(item)
            if item in self._dirty:  # added while processing: waiting again from now
                self._added_at.setdefault(item, time.monotonic())
            self._depth.set(len(self._queue))
        if started is not None:
            self._work.observe(time.monotonic() - started)

    def add_rate_limited(self, item: T) -> None:
        self._retries.inc()
        super().add_rate_limited(item)
