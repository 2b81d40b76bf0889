"""Work queues with client-go semantics (``workqueue.Typed[RateLimiting|Delaying]Interface``).

The guarantees a controller leans on:

* **Fair and deduplicated**: an item added many times before a worker gets it is handed
  out once (``dirty`` set); items come out in the order they were first added.
* **Never concurrent**: while an item is being processed (between :meth:`WorkQueue.get` and
  :meth:`WorkQueue.done`) no other worker gets it. Adding it meanwhile marks it dirty, and
  ``done`` puts it back in the queue, so the change is processed again, afterwards.
* **Shutdown**: :meth:`WorkQueue.shutdown` makes ``get`` return ``(None, True)`` once the
  queue is empty; adds are then ignored. :meth:`WorkQueue.shutdown_with_drain` also waits
  for the items being processed to be ``done``.
* **Delays and retries**: :meth:`DelayingQueue.add_after` adds later (one timer thread per
  queue); :meth:`RateLimitingQueue.add_rate_limited` waits as long as the rate limiter says
  (per-item exponential backoff by default), :meth:`RateLimitingQueue.forget` resets it.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Hashable
from typing import Generic, TypeVar

from kubelab_client.ratelimit import RateLimiter, default_controller_rate_limiter

T = TypeVar("T", bound=Hashable)


class WorkQueue(Generic[T]):
    def __init__(self, name: str = "") -> None:
        self.name = name
        self._cond = threading.Condition()
        self._queue: deque[T] = deque()
        self._dirty: set[T] = set()
        self._processing: set[T] = set()
        self._shutting_down = False

    def add(self, item: T) -> None:
        with self._cond:
            if self._shutting_down or item in self._dirty:
                return
            self._dirty.add(item)
            if item in self._processing:
                return  # done() queues it again
            self._queue.append(item)
            self._cond.notify()

    def get(self, timeout: float | None = None) -> tuple[T | None, bool]:
        """Block until an item is ready: ``(item, False)``; ``(None, True)`` once shut down and empty.

        With ``timeout``, ``(None, False)`` when nothing came in time.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._queue and not self._shutting_down:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None, False
                self._cond.wait(remaining)
            if not self._queue:
                return None, True
            item = self._queue.popleft()
            self._processing.add(item)
            self._dirty.discard(item)
            return item, False

    def done(self, item: T) -> None:
        """Mark ``item`` processed; if it was added again meanwhile, it goes back in the queue."""
        with self._cond:
            self._processing.discard(item)
            if item in self._dirty:
                self._queue.append(item)
            self._cond.notify_all()

    def shutdown(self) -> None:
        with self._cond:
            self._shutting_down = True
            self._cond.notify_all()

    def shutdown_with_drain(self, timeout: float | None = None) -> bool:
        """Shut down, then wait until every item handed out is ``done`` (False on timeout)."""
        self.shutdown()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._processing:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def shutting_down(self) -> bool:
        with self._cond:
            return self._shutting_down

    def processing(self) -> int:
        """How many items are handed out and not yet ``done``."""
        with self._cond:
            return len(self._processing)

    def __len__(self) -> int:
        with self._cond:
            return len(self._queue)


class DelayingQueue(WorkQueue[T]):
    """A :class:`WorkQueue` with :meth:`add_after`: an item waits, then is added.

    An item already waiting keeps the earlier of its two ready times (client-go's rule).
    """

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        self._timer_cond = threading.Condition()
        self._heap: list[tuple[float, int, T]] = []
        self._ready_at: dict[T, float] = {}
        self._seq = itertools.count()
        self._timer: threading.Thread | None = None

    def add_after(self, item: T, delay: float) -> None:
        if self.shutting_down():
            return
        if delay <= 0:
            self.add(item)
            return
        ready = time.monotonic() + delay
        with self._timer_cond:
            current = self._ready_at.get(item)
            if current is not None and current <= ready:
                return
            self._ready_at[item] = ready
            heapq.heappush(self._heap, (ready, next(self._seq), item))
            if self._timer is None:
                self._timer = threading.Thread(target=self._wait_loop, name=f"workqueue-delay-{self.name}", daemon=True)
                self._timer.start()
            self._timer_cond.notify()

    def waiting(self) -> int:
        """How many items wait for their delay."""
        with self._timer_cond:
            return len(self._ready_at)

    def shutdown(self) -> None:
        super().shutdown()
        with self._timer_cond:
            self._timer_cond.notify_all()

    def _wait_loop(self) -> None:
        with self._timer_cond:
            while not self.shutting_down():
                now = time.monotonic()
                ready: list[T] = []
                while self._heap and self._heap[0][0] <= now:
                    at, _, item = heapq.heappop(self._heap)
                    if self._ready_at.get(item) == at:  # else superseded by an earlier entry
                        del self._ready_at[item]
                        ready.append(item)
                if ready:
                    self._timer_cond.release()
                    try:
                        for item in ready:
                            self.add(item)
                    finally:
                        self._timer_cond.acquire()
                    continue
                self._timer_cond.wait(self._heap[0][0] - now if self._heap else None)


class RateLimitingQueue(DelayingQueue[T]):
    def __init__(self, rate_limiter: RateLimiter[T] | None = None, name: str = "") -> None:
        super().__init__(name)
        self.rate_limiter: RateLimiter[T] = rate_limiter or default_controller_rate_limiter()

    def add_rate_limited(self, item: T) -> None:
        """Add ``item`` after the rate limiter's delay (and count one more requeue)."""
        self.add_after(item, self.rate_limiter.when(item))

    def forget(self, item: T) -> None:
        """The item succeeded (or is given up on): its backoff starts over."""
        self.rate_limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        return self.rate_limiter.num_requeues(item)
