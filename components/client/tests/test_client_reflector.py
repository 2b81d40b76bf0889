"""The reflector against the fake API server: list/watch, bookmarks, 410, 429, 5xx, drops, stalls."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from kubelab_client.kube import Api
from kubelab_client.listwatch import ListWatch
from kubelab_client.objects import resource_version
from kubelab_client.reflector import Reflector, ReflectorOptions
from kubelab_client.resources import CONFIGMAPS
from kubelab_client.store import Indexer
from kubelab_client.testing import FakeApiServer, Fault, fast_reflector_options


def start(api: Api, stop: threading.Event, options: ReflectorOptions | None = None, **lw: str) -> Reflector:
    store = Indexer()
    reflector = Reflector(ListWatch(api, CONFIGMAPS, **lw), store, options=options or fast_reflector_options())
    threading.Thread(target=reflector.run, args=(stop,), daemon=True).start()
    return reflector


def rvs(store: Indexer) -> dict[str, str]:
    return {key: resource_version(obj) for key, obj in ((k, store.get_by_key(k)) for k in store.list_keys())}


def server_rvs(fake: FakeApiServer) -> dict[str, str]:
    return {key: resource_version(obj) for key, obj in fake.objects().items()}


def converged(fake: FakeApiServer, reflector: Reflector, timeout: float = 5.0) -> bool:
    store = reflector.store
    assert isinstance(store, Indexer)
    return fake.wait_for(lambda: rvs(store) == server_rvs(fake), timeout)


def watching(fake: FakeApiServer, n: int = 1) -> bool:
    return fake.wait_for(lambda: fake.open_watches() == n)


def test_lists_in_pages_then_watches_from_the_lists_rv(fake: FakeApiServer, api: Api, stop: threading.Event) -> None:
    for i in range(120):
        fake.apply("default", f"cm-{i:03}", {"i": str(i)})
    list_rv = str(fake.resource_version)
    reflector = start(api, stop)
    assert watching(fake)
    assert [r.kind for r in fake.records()] == ["list", "list-continue", "list-continue", "watch"]
    first_list, watch = fake.records("list")[0], fake.records("watch")[0]
    assert first_list.query["resourceVersion"] == "0" and first_list.query["limit"] == "50"
    assert watch.query["resourceVersion"] == list_rv
    assert watch.query["allowWatchBookmarks"] == "true"
    assert watch.query["timeoutSeconds"] == "30"
    fake.apply("default", "cm-000", {"changed": "yes"})
    fake.delete("default", "cm-001")
    fake.apply("other", "fresh", {})
    assert converged(fake, reflector)
    assert reflector.last_sync_resource_version == str(fake.resource_version)


def test_bookmark_advances_the_rv_used_to_resume(fake: FakeApiServer, api: Api, stop: threading.Event) -> None:
    fake.apply("default", "mine", {}, {"app": "x"})
    reflector = start(api, stop, label_selector="app=x")
    assert watching(fake)
    for i in range(5):  # changes the watch does not see (other labels), but the RV moves on
        fake.apply("default", f"other-{i}", {})
    assert reflector.last_sync_resource_version != str(fake.resource_version)
    assert fake.send_bookmark() == 1
    assert fake.wait_for(lambda: reflector.last_sync_resource_version == str(fake.resource_version))
    assert reflector.stats.bookmarks == 1
    fake.drop_watches()
    assert fake.wait_for(lambda: len(fake.records("watch")) == 2)
    assert fake.records("watch")[1].query["resourceVersion"] == str(fake.resource_version)
    assert reflector.stats.lists == 1  # resumed, not relisted


def test_error_event_410_relists_and_loses_no_change(fake: FakeApiServer, api: Api, stop: threading.Event) -> None:
    for i in range(20):
        fake.apply("default", f"cm-{i}", {"v": "0"})
    reflector = start(api, stop)
    assert watching(fake)
    old_rv = reflector.last_sync_resource_version
    # hold the relist, so these changes happen while nobody watches
    arrived, release = threading.Event(), threading.Event()
    fake.inject(Fault(on="list", arrived=arrived, hold_until=release))
    assert fake.expire_watches() == 1
    assert arrived.wait(5)
    for i in range(0, 20, 3):
        fake.delete("default", f"cm-{i}")
    for i in range(1, 20, 3):
        fake.apply("default", f"cm-{i}", {"v": "1"})
    fake.apply("default", "cm-new", {})
    release.set()
    assert converged(fake, reflector)
    assert reflector.stats.gone == 1
    relist = fake.records("list")[1]
    assert relist.query["resourceVersion"] == old_rv
    assert relist.query["resourceVersionMatch"] == "NotOlderThan"


def test_http_410_on_watch_relists(fake: FakeApiServer, api: Api, stop: threading.Event) -> None:
    fake.apply("default", "a", {})
    reflector = start(api, stop)
    assert watching(fake)
    fake.inject(Fault(on="watch", status=410))
    fake.drop_watches()
    fake.apply("default", "b", {})
    assert fake.wait_for(lambda: len(fake.records("list")) == 2)
    assert converged(fake, reflector)
    assert reflector.stats.gone == 1


def test_watch_from_compacted_rv_gets_error_event_and_relists(
    fake: FakeApiServer, api: Api, stop: threading.Event
) -> None:
    fake.apply("default", "a", {})
    reflector = start(api, stop)
    assert watching(fake)
    fake.inject(Fault(on="watch", drop=True))  # the resume fails once...
    fake.drop_watches()
    fake.apply("default", "b", {})
    fake.compact()  # ...and meanwhile history is gone: ERROR 410 on the next watch
    assert converged(fake, reflector)
    assert reflector.stats.gone == 1 and reflector.stats.lists == 2


def test_list_410_falls_back_to_a_consistent_list(fake: FakeApiServer, api: Api, stop: threading.Event) -> None:
    fake.apply("default", "a", {})
    reflector = start(api, stop)
    assert watching(fake)
    fake.inject(Fault(on="list", status=410))
    fake.expire_watches()
    fake.apply("default", "b", {})
    assert converged(fake, reflector)
    lists = fake.records("list")
    assert [(r.status, r.query["resourceVersion"]) for r in lists[1:]] == [
        (410, lists[1].query["resourceVersion"]),
        (200, ""),
    ]


def test_429_honours_retry_after(fake: FakeApiServer, api: Api, stop: threading.Event) -> None:
    reflector = start(api, stop)
    assert watching(fake)
    fake.inject(Fault(on="watch", status=429, retry_after="0.3"))
    fake.drop_watches()
    fake.apply("default", "after", {})
    assert fake.wait_for(lambda: len(fake.records("watch")) == 3)
    throttled, resumed = fake.records("watch")[1:]
    assert throttled.status == 429 and resumed.status == 200
    assert resumed.at - throttled.at >= 0.3
    assert converged(fake, reflector)


def test_500s_back_off_exponentially_then_recover(fake: FakeApiServer, api: Api, stop: threading.Event) -> None:
    reflector = start(api, stop)
    assert watching(fake)
    fake.inject(Fault(on="watch", status=500, times=4))
    fake.drop_watches()
    fake.apply("default", "after", {})
    assert fake.wait_for(lambda: len(fake.records("watch")) == 6)
    watches = fake.records("watch")[1:]
    assert [r.status for r in watches] == [500, 500, 500, 500, 200]
    gaps = [b.at - a.at for a, b in itertools.pairwise(watches)]
    # drop → 0.02, then 500s → 0.04, 0.08, 0.16, 0.32 (no jitter in the tests)
    for gap, base in zip(gaps, [0.04, 0.08, 0.16, 0.32], strict=True):
        assert gap >= base * 0.95, gaps
    assert converged(fake, reflector)
    delays = [round(r.delay, 3) for r in reflector.stats.retries]
    assert delays == [0.02, 0.04, 0.08, 0.16, 0.32]
    fake.drop_watches()  # progress was made: the backoff starts small again
    assert fake.wait_for(lambda: len(reflector.stats.retries) == 6)
    assert reflector.stats.retries[-1].delay == pytest.approx(0.02)


def test_list_errors_back_off_until_the_list_succeeds(fake: FakeApiServer, api: Api, stop: threading.Event) -> None:
    fake.apply("default", "a", {})
    fake.inject(Fault(on="list", status=500, times=2))
    fake.inject(Fault(on="list", drop=True))
    reflector = start(api, stop)
    assert converged(fake, reflector)
    lists = fake.records("list")
    assert [r.status for r in lists] == [500, 500, 0, 200]
    assert all(b.at - a.at >= 0.019 for a, b in itertools.pairwise(lists))


def test_dropped_connections_resume_from_last_rv_without_relisting(
    fake: FakeApiServer, api: Api, stop: threading.Event
) -> None:
    reflector = start(api, stop)
    for round_ in range(5):
        assert watching(fake)
        fake.apply("default", f"cm-{round_}", {"r": str(round_)})
        fake.drop_watches()
        fake.apply("default", "shared", {"r": str(round_)})
    assert converged(fake, reflector)
    assert reflector.stats.lists == 1
    assert reflector.stats.gone == 0


def test_stalled_watch_hits_the_read_timeout_and_resumes(fake: FakeApiServer, api: Api, stop: threading.Event) -> None:
    reflector = start(api, stop, fast_reflector_options(read_timeout=0.3))
    assert watching(fake)
    fake.inject(Fault(on="watch", stall=True))
    fake.drop_watches()
    assert fake.wait_for(lambda: len(fake.records("watch")) == 2)
    stalled_at = fake.records("watch")[1].at
    fake.apply("default", "after-stall", {})
    assert fake.wait_for(lambda: len(fake.records("watch")) == 3)
    assert fake.records("watch")[2].at - stalled_at >= 0.3
    assert converged(fake, reflector)
    assert any("ConnectionLost" in r.error for r in reflector.stats.retries)


def test_stop_closes_the_watch_promptly(fake: FakeApiServer, api: Api) -> None:
    stop = threading.Event()
    reflector = Reflector(ListWatch(api, CONFIGMAPS), Indexer(), options=fast_reflector_options())
    thread = threading.Thread(target=reflector.run, args=(stop,))
    thread.start()
    assert watching(fake)
    started = time.monotonic()
    stop.set()
    thread.join(2)
    assert not thread.is_alive()
    assert time.monotonic() - started < 1.0
    assert fake.wait_for(lambda: fake.open_watches() == 0)


def test_error_events_other_than_410_back_off_and_resume_without_relist(
    fake: FakeApiServer, api: Api, stop: threading.Event
) -> None:
    reflector = start(api, stop)
    assert watching(fake)
    fake.inject(Fault(on="watch", error_event=500, times=2))
    fake.drop_watches()
    fake.apply("default", "a", {})
    assert converged(fake, reflector)
    assert reflector.stats.lists == 1 and reflector.stats.gone == 0
    assert [round(r.delay, 3) for r in reflector.stats.retries] == [0.02, 0.04, 0.08]


def test_error_event_410_at_watch_start_backs_off_before_relisting(
    fake: FakeApiServer, api: Api, stop: threading.Event
) -> None:
    reflector = start(api, stop)
    assert watching(fake)
    fake.inject(Fault(on="watch", error_event=410, times=3))
    fake.drop_watches()
    fake.apply("default", "a", {})
    assert converged(fake, reflector)
    assert fake.wait_for(lambda: fake.open_watches() == 1)
    # no progress between the 410s: each relist waits longer (no hot relist loop)
    assert reflector.stats.gone == 3 and reflector.stats.lists == 4
    assert [round(r.delay, 3) for r in reflector.stats.retries] == [0.02, 0.04, 0.08, 0.16]
