from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter

import pytest

from kubelab_client.backoff import Backoff
from kubelab_client.ratelimit import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    MaxOfRateLimiter,
    default_controller_rate_limiter,
)
from kubelab_client.workqueue import DelayingQueue, RateLimitingQueue, WorkQueue


def test_dedup_item_added_many_times_is_handed_out_once() -> None:
    q: WorkQueue[str] = WorkQueue()
    for _ in range(10):
        q.add("a")
    q.add("b")
    q.add("a")
    assert len(q) == 2
    assert q.get() == ("a", False)
    assert q.get() == ("b", False)
    assert q.get(timeout=0.01) == (None, False)


def test_readd_while_processing_is_queued_again_after_done() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add("a")
    _item, _ = q.get()
    q.add("a")  # while processing: dirty, not queued
    q.add("a")
    assert len(q) == 0
    assert q.get(timeout=0.01) == (None, False)  # not handed to a second worker
    q.done("a")
    assert len(q) == 1
    assert q.get() == ("a", False)
    q.done("a")
    assert len(q) == 0


def test_one_key_is_never_processed_concurrently_under_many_threads() -> None:
    q: WorkQueue[int] = WorkQueue()
    keys = 5
    in_flight: set[int] = set()
    lock = threading.Lock()
    overlaps: list[int] = []
    processed: Counter[int] = Counter()
    last_seen: dict[int, int] = {}
    latest: dict[int, int] = dict.fromkeys(range(keys), 0)
    producers_done = threading.Event()

    def worker() -> None:
        while True:
            key, shutdown = q.get()
            if shutdown:
                return
            assert key is not None
            with lock:
                if key in in_flight:
                    overlaps.append(key)
                in_flight.add(key)
                seen = latest[key]
            time.sleep(0.0005)  # widen the window a concurrent hand-out would need
            with lock:
                in_flight.discard(key)
                processed[key] += 1
                last_seen[key] = seen
            q.done(key)

    def producer(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(500):
            key = rng.randrange(keys)
            with lock:
                latest[key] += 1
            q.add(key)

    workers = [threading.Thread(target=worker) for _ in range(8)]
    producers = [threading.Thread(target=producer, args=(s,)) for s in range(4)]
    for t in workers + producers:
        t.start()
    for t in producers:
        t.join()
    producers_done.set()
    assert q.shutdown_with_drain(5)
    for t in workers:
        t.join(5)
    assert overlaps == []
    # every key was processed after its last add (the last change is never lost)
    assert last_seen == latest
    assert sum(processed.values()) < 2000  # deduplicated


def test_shutdown_returns_flag_after_queue_drains_and_ignores_adds() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add("a")
    q.shutdown()
    q.add("b")
    assert q.get() == ("a", False)
    assert q.get() == (None, True)
    assert q.shutting_down()


def test_shutdown_wakes_blocked_getters() -> None:
    q: WorkQueue[str] = WorkQueue()
    results: list[tuple[str | None, bool]] = []
    getters = [threading.Thread(target=lambda: results.append(q.get())) for _ in range(3)]
    for t in getters:
        t.start()
    q.shutdown()
    for t in getters:
        t.join(2)
    assert results == [(None, True)] * 3


def test_shutdown_with_drain_waits_for_items_in_flight() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add("a")
    _item, _ = q.get()
    assert q.shutdown_with_drain(timeout=0.02) is False
    drained = threading.Event()
    threading.Thread(target=lambda: q.shutdown_with_drain() and drained.set()).start()
    assert not drained.wait(0.02)
    q.done("a")
    assert drained.wait(2)


def test_add_after_orders_by_ready_time_and_keeps_earliest() -> None:
    q: DelayingQueue[str] = DelayingQueue()
    start = time.monotonic()
    q.add_after("late", 0.12)
    q.add_after("early", 0.03)
    q.add_after("middle", 0.06)
    q.add_after("early", 0.5)  # a later time for a waiting item is ignored
    q.add_after("now", 0)
    assert q.get(timeout=1) == ("now", False)
    assert q.waiting() == 3
    order = []
    for _ in range(3):
        item, _ = q.get(timeout=2)
        order.append((item, time.monotonic() - start))
    assert [name for name, _ in order] == ["early", "middle", "late"]
    assert order[0][1] >= 0.03 and order[2][1] >= 0.12
    assert order[0][1] < 0.5
    q.shutdown()


def test_add_after_sooner_time_wins() -> None:
    q: DelayingQueue[str] = DelayingQueue()
    q.add_after("x", 5.0)
    q.add_after("x", 0.01)
    assert q.get(timeout=2) == ("x", False)
    q.shutdown()


def test_item_exponential_backoff_grows_caps_and_forgets() -> None:
    limiter: ItemExponentialFailureRateLimiter[str] = ItemExponentialFailureRateLimiter(0.01, 0.1)
    assert [limiter.when("a") for _ in range(6)] == pytest.approx([0.01, 0.02, 0.04, 0.08, 0.1, 0.1])
    assert limiter.num_requeues("a") == 6
    assert limiter.when("b") == pytest.approx(0.01)  # per item
    limiter.forget("a")
    assert limiter.num_requeues("a") == 0
    assert limiter.when("a") == pytest.approx(0.01)


def test_bucket_rate_limiter_spreads_a_burst() -> None:
    now = [100.0]
    bucket: BucketRateLimiter[str] = BucketRateLimiter(qps=10, burst=2, clock=lambda: now[0])
    assert [bucket.when(str(i)) for i in range(4)] == pytest.approx([0.0, 0.0, 0.1, 0.2])
    now[0] += 1.0  # tokens refill up to the burst
    assert bucket.when("x") == 0.0
    limiter = MaxOfRateLimiter(ItemExponentialFailureRateLimiter(0.5, 10), bucket)
    assert limiter.when("y") == pytest.approx(0.5)
    assert limiter.num_requeues("y") == 1
    assert default_controller_rate_limiter().when("z") == pytest.approx(0.005)


def test_rate_limited_requeue_backs_off_with_timestamps_then_forget_resets() -> None:
    q: RateLimitingQueue[str] = RateLimitingQueue(ItemExponentialFailureRateLimiter(0.02, 1.0))
    q.add("k")
    stamps = []
    for _ in range(4):
        item, _ = q.get(timeout=2)
        assert item == "k"
        stamps.append(time.monotonic())
        q.add_rate_limited("k")
        q.done("k")
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert gaps[0] >= 0.02 and gaps[1] >= 0.04 and gaps[2] >= 0.08
    assert q.num_requeues("k") == 4
    q.forget("k")
    assert q.num_requeues("k") == 0
    q.shutdown()


def test_backoff_grows_to_cap_with_bounded_jitter_and_resets() -> None:
    b = Backoff(initial=0.1, cap=1.0, factor=2.0, jitter=0.0)
    assert [round(b.next_delay(), 3) for _ in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    b.reset()
    assert b.next_delay() == pytest.approx(0.1)
    jittered = Backoff(initial=0.1, cap=1.0, jitter=1.0, rng=random.Random(1))
    delays = [jittered.next_delay() for _ in range(20)]
    assert all(0.1 <= d <= 2.0 for d in delays)
    with pytest.raises(ValueError):
        Backoff(initial=0)
