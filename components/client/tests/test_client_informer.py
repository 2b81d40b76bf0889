"""The shared informer end to end against the fake API server."""

from __future__ import annotations

import random
import threading
from typing import Any

from kubelab_client.indexers import NAMESPACE_INDEX
from kubelab_client.informer import HandlerFuncs, SharedInformer
from kubelab_client.keys import DeletedFinalStateUnknown, meta_namespace_key
from kubelab_client.kube import Api
from kubelab_client.listwatch import ListWatch
from kubelab_client.objects import resource_version
from kubelab_client.resources import CONFIGMAPS
from kubelab_client.testing import FakeApiServer, Fault, fast_reflector_options


class Recorder:
    """A handler that mirrors what it is told into a dict, and checks the order it is told in."""

    def __init__(self) -> None:
        self.state: dict[str, str] = {}
        self.tombstones: list[str] = []
        self.resyncs = 0
        self.errors: list[str] = []
        self.initial_adds = 0

    def on_add(self, obj: Any, is_in_initial_list: bool) -> None:
        key = meta_namespace_key(obj)
        self.initial_adds += is_in_initial_list
        self.state[key] = resource_version(obj)

    def on_update(self, old: Any, new: Any) -> None:
        key = meta_namespace_key(new)
        if old is new or resource_version(old) == resource_version(new):
            self.resyncs += 1
        elif int(resource_version(new)) < int(resource_version(old)):
            self.errors.append(f"{key}: update went back from {resource_version(old)} to {resource_version(new)}")
        self.state[key] = resource_version(new)

    def on_delete(self, obj: Any) -> None:
        key = meta_namespace_key(obj)
        if isinstance(obj, DeletedFinalStateUnknown):
            self.tombstones.append(key)
        if self.state.pop(key, None) is None:
            self.errors.append(f"{key}: deleted but never added")


def server_state(fake: FakeApiServer) -> dict[str, str]:
    return {key: resource_version(obj) for key, obj in fake.objects().items()}


def make(api: Api, **kwargs: Any) -> SharedInformer:
    return SharedInformer(ListWatch(api, CONFIGMAPS), reflector_options=fast_reflector_options(), **kwargs)


def test_cache_is_updated_before_handlers_run(fake: FakeApiServer, api: Api, stop: threading.Event) -> None:
    fake.apply("default", "a", {"k": "1"})
    informer = make(api)
    seen: list[tuple[str, bool]] = []

    def check(obj: Any) -> None:
        cached = informer.indexer.get_by_key(meta_namespace_key(obj))
        fresh = cached is not None and int(resource_version(cached)) >= int(resource_version(obj))
        seen.append((meta_namespace_key(obj), fresh))
        if meta_namespace_key(obj) == "other/b":
            got_b.set()

    deleted, got_b = threading.Event(), threading.Event()
    informer.add_event_handler(
        HandlerFuncs(add=check, update=lambda old, new: check(new), delete=lambda obj: deleted.set())
    )
    assert not informer.has_synced()
    informer.start(stop)
    assert informer.wait_for_cache_sync(5)
    assert informer.has_synced()
    fake.apply("default", "a", {"k": "2"})
    fake.apply("other", "b", {})
    assert got_b.wait(5)
    fake.delete("default", "a")
    assert deleted.wait(5)
    assert seen == [("default/a", True), ("default/a", True), ("other/b", True)]
    assert [o["metadata"]["name"] for o in informer.indexer.by_index(NAMESPACE_INDEX, "other")] == ["b"]


def test_after_500_rapid_updates_every_handler_has_the_final_state(
    fake: FakeApiServer, api: Api, stop: threading.Event
) -> None:
    for i in range(50):
        fake.apply("default", f"cm-{i}", {"v": "0"})
    informer = make(api)
    fast, slow = Recorder(), Recorder()
    slow_gate = threading.Event()
    informer.add_event_handler(fast)
    informer.add_event_handler(
        HandlerFuncs(
            add=lambda o: (slow_gate.wait(), slow.on_add(o, False)),
            update=lambda o, n: (slow_gate.wait(), slow.on_update(o, n)),
            delete=lambda o: (slow_gate.wait(), slow.on_delete(o)),
        )
    )
    informer.start(stop)
    assert informer.wait_for_cache_sync(5)
    rng = random.Random(42)
    for n in range(500):
        name = f"cm-{rng.randrange(60)}"
        if rng.random() < 0.1 and f"default/{name}" in fake.objects():
            fake.delete("default", name)
        else:
            fake.apply("default", name, {"v": str(n)})
    final = server_state(fake)
    assert fake.wait_for(lambda: fast.state == final, 10), "the fast handler is behind"
    slow_gate.set()  # the slow handler was blocked all along; it catches up, in order
    assert informer.wait_idle(10)
    assert slow.state == final and fast.errors == [] and slow.errors == []
    assert {
        k: resource_version(o) for k, o in zip(informer.indexer.list_keys(), informer.indexer.list(), strict=True)
    } == final


def test_forced_410_delivers_tombstones_and_converges(fake: FakeApiServer, api: Api, stop: threading.Event) -> None:
    for i in range(10):
        fake.apply("default", f"cm-{i}", {"v": "0"})
    informer = make(api)
    recorder = Recorder()
    informer.add_event_handler(recorder)
    informer.start(stop)
    assert informer.wait_for_cache_sync(5)
    assert fake.wait_for(lambda: fake.open_watches() == 1)
    arrived, release = threading.Event(), threading.Event()
    fake.inject(Fault(on="list", arrived=arrived, hold_until=release))
    fake.expire_watches()
    assert arrived.wait(5)
    fake.delete("default", "cm-1")
    fake.delete("default", "cm-2")
    fake.apply("default", "cm-3", {"v": "1"})
    fake.apply("default", "cm-new", {})
    release.set()
    final = server_state(fake)
    assert fake.wait_for(lambda: recorder.state == final, 5)
    assert sorted(recorder.tombstones) == ["default/cm-1", "default/cm-2"]
    assert recorder.errors == []
    assert recorder.resyncs == 0  # unchanged objects in the relist are not re-announced


def test_no_change_lost_under_churn_with_expiries_and_drops(
    fake: FakeApiServer, api: Api, stop: threading.Event
) -> None:
    informer = make(api)
    recorder = Recorder()
    informer.add_event_handler(recorder)
    informer.start(stop)
    assert informer.wait_for_cache_sync(5)
    rng = random.Random(1)
    for n in range(600):
        name = f"cm-{rng.randrange(40)}"
        if rng.random() < 0.15 and f"default/{name}" in fake.objects():
            fake.delete("default", name)
        else:
            fake.apply("default", name, {"v": str(n)})
        if n % 100 == 50:
            fake.expire_watches()
        elif n % 100 == 99:
            fake.drop_watches()
    final = server_state(fake)
    assert fake.wait_for(lambda: recorder.state == final, 10)
    assert recorder.errors == []
    assert informer.reflector.stats.gone >= 1


def test_resync_replays_the_cache_as_updates_with_old_equal_new(
    fake: FakeApiServer, api: Api, stop: threading.Event
) -> None:
    for i in range(3):
        fake.apply("default", f"cm-{i}", {})
    informer = make(api, resync_period=0.05, resync_check_period=0.01)
    resynced: list[str] = []
    all_resynced = threading.Event()

    def on_update(old: Any, new: Any) -> None:
        if old is new:
            resynced.append(meta_namespace_key(new))
            if len(set(resynced)) == 3:
                all_resynced.set()

    never = Recorder()
    informer.add_event_handler(HandlerFuncs(update=on_update))
    informer.add_event_handler(never, resync_period=0)  # opted out
    informer.start(stop)
    assert all_resynced.wait(5)
    assert never.resyncs == 0


def test_handler_added_after_start_gets_the_cache_as_initial_adds(
    fake: FakeApiServer, api: Api, stop: threading.Event
) -> None:
    for i in range(5):
        fake.apply("default", f"cm-{i}", {})
    informer = make(api)
    informer.start(stop)
    assert informer.wait_for_cache_sync(5)
    late = Recorder()
    registration = informer.add_event_handler(late)
    assert registration.wait_idle(5)
    assert late.state == server_state(fake) and late.initial_adds == 5
    fake.apply("default", "cm-9", {})
    assert fake.wait_for(lambda: late.state == server_state(fake))
    informer.remove_event_handler(registration)


def test_wait_for_cache_sync_times_out_while_listing_fails(
    fake: FakeApiServer, api: Api, stop: threading.Event
) -> None:
    blocked = threading.Event()
    fake.inject(Fault(on="list", hold_until=blocked))
    informer = make(api)
    informer.start(stop)
    assert informer.wait_for_cache_sync(0.05) is False
    blocked.set()
    assert informer.wait_for_cache_sync(5) is True


def test_a_failing_handler_does_not_stop_the_others(fake: FakeApiServer, api: Api, stop: threading.Event) -> None:
    informer = make(api)

    def boom(obj: Any) -> None:
        raise RuntimeError("handler bug")

    good = Recorder()
    informer.add_event_handler(HandlerFuncs(add=boom))
    informer.add_event_handler(good)
    informer.start(stop)
    fake.apply("default", "a", {})
    fake.apply("default", "b", {})
    assert fake.wait_for(lambda: good.state == server_state(fake))


def test_run_returns_after_stop(fake: FakeApiServer, api: Api) -> None:
    stop = threading.Event()
    informer = make(api)
    thread = informer.start(stop)
    assert informer.wait_for_cache_sync(5)
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
