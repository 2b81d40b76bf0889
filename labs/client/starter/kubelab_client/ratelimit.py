"""STARTER (chapter 2.8): one TODO below, marked ``TODO(2.8)``. Everything else works.

Rate limiters for the workqueue (client-go's ``workqueue.TypedRateLimiter`` family).

A limiter answers "how long should this item wait before it is retried" (:meth:`when`),
counts retries per item (:meth:`num_requeues`) and forgets an item once it succeeded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, Protocol, TypeVar

T = TypeVar("T", bound=Hashable)
T_contra = TypeVar("T_contra", bound=Hashable, contravariant=True)
Clock = Callable[[], float]


class RateLimiter(Protocol[T_contra]):
    def when(self, item: T_contra) -> float:
        """Seconds to wait before ``item`` may be processed again; counts one more retry."""
        ...

    def forget(self, item: T_contra) -> None:
        """Stop tracking ``item`` (it succeeded, or was given up on)."""
        ...

    def num_requeues(self, item: T_contra) -> int: ...


class ItemExponentialFailureRateLimiter(Generic[T]):
    """``base * 2**failures``, capped at ``cap``, per item (client-go: 5 ms doubling to 1000 s)."""

    def __init__(self, base: float = 0.005, cap: float = 1000.0) -> None:
        self._base = base
        self._cap = cap
        self._failures: dict[T, int] = {}
        self._lock = threading.Lock()

    def when(self, item: T) -> float:
        """TODO(2.8): the workqueue's per-item backoff.

        Count one more failure of ``item`` (under ``self._lock``, in ``self._failures``) and
        return ``base * 2**failures_before_this_one``, capped at ``self._cap``: 5 ms, 10 ms,
        20 ms... for client-go's defaults. Beware of overflow for large counts.
        """
        raise NotImplementedError("TODO(2.8): ItemExponentialFailureRateLimiter.when (per-item exponential backoff)")

    def forget(self, item: T) -> None:
        with self._lock:
            self._failures.pop(item, None)

    def num_requeues(self, item: T) -> int:
        with self._lock:
            return self._failures.get(item, 0)


class BucketRateLimiter(Generic[T]):
    """A token bucket over all items: ``qps`` tokens a second, up to ``burst`` saved.

    Each :meth:`when` reserves a token and returns how long until it is there, so a flood
    of retries is spread out at ``qps`` overall. It does not track items (forget is a no-op).
    """

    def __init__(self, qps: float = 10.0, burst: int = 100, clock: Clock = time.monotonic) -> None:
        if qps <= 0 or burst < 1:
            raise ValueError("qps must be > 0 and burst >= 1")
        self._qps = qps
        self._burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()
        self._lock = threading.Lock()

    def when(self, item: T) -> float:
        with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._last) * self._qps)
            self._last = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self._qps

    def forget(self, item: T) -> None:
        return None

    def num_requeues(self, item: T) -> int:
        return 0


class MaxOfRateLimiter(Generic[T]):
    """The longest wait of several limiters; requeues as the largest count among them."""

    def __init__(self, *limiters: RateLimiter[T]) -> None:
        if not limiters:
            raise ValueError("MaxOfRateLimiter needs at least one limiter")
        self._limiters = limiters

    def when(self, item: T) -> float:
        return max(limiter.when(item) for limiter in self._limiters)

    def forget(self, item: T) -> None:
        for limiter in self._limiters:
            limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        return max(limiter.num_requeues(item) for limiter in self._limiters)


def default_controller_rate_limiter() -> MaxOfRateLimiter[Hashable]:
    """client-go's ``DefaultControllerRateLimiter``: per-item 5 ms → 1000 s, overall 10 qps burst 100."""
    return MaxOfRateLimiter(ItemExponentialFailureRateLimiter(0.005, 1000.0), BucketRateLimiter(10.0, 100))
