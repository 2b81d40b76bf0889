"""The storage contract (kubelab_apiserver.storage.interface), one scenario per guarantee. Every
backend runs every scenario (test_storage.py): what passes here for SQLite passes for etcd."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from kubelab_apiserver.storage import (
    AlreadyExists,
    Conflict,
    Event,
    Expired,
    NotFound,
    Object,
    Storage,
    guaranteed_update,
)

Opener = Callable[[], Storage]
Scenario = Callable[[Storage, str], Awaitable[None]]
SCENARIOS: list[Scenario] = []


def scenario(fn: Scenario) -> Scenario:
    SCENARIOS.append(fn)
    return fn


def book(name: str, **spec: object) -> Object:
    return {"apiVersion": "books.kubelab.dev/v1alpha1", "kind": "Book", "metadata": {"name": name}, "spec": spec}


def rv(obj: Object) -> int:
    return int(obj["metadata"]["resourceVersion"])


async def take(events: AsyncIterator[Event], n: int, timeout: float = 10.0) -> list[Event]:
    got: list[Event] = []

    async def collect() -> None:
        async for event in events:
            got.append(event)
            if len(got) == n:
                return

    await asyncio.wait_for(collect(), timeout)
    return got


@scenario
async def create_and_get(s: Storage, p: str) -> None:
    sent = book("a", title="Kubernetes开发指南")
    sent["metadata"]["resourceVersion"] = "999"
    made = await s.create(p + "a", sent)
    assert rv(made) > 0 and rv(made) != 999, "the store, not the writer, sets resourceVersion"
    got = await s.get(p + "a")
    assert got == made and got["spec"]["title"] == "Kubernetes开发指南"
    with pytest.raises(AlreadyExists):
        await s.create(p + "a", book("a"))
    with pytest.raises(NotFound):
        await s.get(p + "missing")


@scenario
async def revisions_are_monotonic_across_keys(s: Storage, p: str) -> None:
    seen = [rv(await s.create(p + "a", book("a")))]
    seen.append(rv(await s.create(p + "b", book("b"))))
    a = await s.get(p + "a")
    seen.append(rv(await s.update(p + "a", a | {"spec": {"n": 1}}, expected=rv(a))))
    seen.append(rv(await s.delete(p + "b")))
    assert seen == sorted(seen) and len(set(seen)) == len(seen), seen
    assert await s.revision() >= seen[-1]


@scenario
async def stale_update_is_a_conflict(s: Storage, p: str) -> None:
    first = await s.create(p + "a", book("a", n=0))
    second = await s.update(p + "a", first | {"spec": {"n": 1}}, expected=rv(first))
    with pytest.raises(Conflict):
        await s.update(p + "a", first | {"spec": {"n": 2}}, expected=rv(first))
    assert (await s.get(p + "a")) == second, "a conflicting write changes nothing"
    with pytest.raises(NotFound):
        await s.update(p + "missing", book("missing"), expected=rv(first))


@scenario
async def delete_with_precondition(s: Storage, p: str) -> None:
    first = await s.create(p + "a", book("a", n=0))
    second = await s.update(p + "a", first | {"spec": {"n": 1}}, expected=rv(first))
    with pytest.raises(Conflict):
        await s.delete(p + "a", expected=rv(first))
    gone = await s.delete(p + "a", expected=rv(second))
    assert gone["spec"] == {"n": 1} and rv(gone) > rv(second), "the last state, at the deletion's revision"
    with pytest.raises(NotFound):
        await s.get(p + "a")
    with pytest.raises(NotFound):
        await s.delete(p + "a")
    again = await s.create(p + "a", book("a"))
    assert rv(again) > rv(gone), "a key made again starts a new life"


@scenario
async def guaranteed_update_retries_until_it_wins(s: Storage, p: str) -> None:
    made = await s.create(p + "counter", book("counter", n=0))

    def increment(obj: Object) -> Object:
        return obj | {"spec": {"n": obj["spec"]["n"] + 1}}

    async def racer() -> None:
        for _ in range(5):
            await guaranteed_update(s, p + "counter", increment)
            await asyncio.sleep(0)

    await asyncio.gather(*(racer() for _ in range(4)))
    assert (await s.get(p + "counter"))["spec"]["n"] == 20, "no increment lost to a concurrent write"
    with pytest.raises(Conflict):
        await guaranteed_update(s, p + "counter", increment, precondition=rv(made))


@scenario
async def pages_read_one_snapshot(s: Storage, p: str) -> None:
    for i in range(7):
        await s.create(f"{p}item-{i}", book(f"item-{i}", n=i))
    await s.create(p.rstrip("/") + "-other/x", book("x"))  # a neighbour outside the prefix
    first = await s.list(p, limit=3)
    assert [o["metadata"]["name"] for o in first.items] == ["item-0", "item-1", "item-2"]
    assert first.continue_token and first.remaining == 4
    # changes after the first page must not show in the next ones
    changed = await s.get(p + "item-4")
    await s.update(p + "item-4", changed | {"spec": {"n": 40}}, expected=rv(changed))
    await s.create(p + "item-9", book("item-9"))
    second = await s.list(p, limit=3, continue_token=first.continue_token)
    third = await s.list(p, limit=3, continue_token=second.continue_token)
    assert [o["metadata"]["name"] for o in second.items] == ["item-3", "item-4", "item-5"]
    assert second.items[1]["spec"]["n"] == 4, "page 2 is read at page 1's revision"
    assert [o["metadata"]["name"] for o in third.items] == ["item-6"] and not third.continue_token
    assert first.revision == second.revision == third.revision
    everything = await s.list(p)
    assert len(everything.items) == 8 and everything.revision > first.revision and not everything.continue_token
    assert all(rv(o) <= everything.revision for o in everything.items)
    with pytest.raises(ValueError):
        await s.list(p, continue_token="not-a-token")
    with pytest.raises(ValueError):
        await s.list(p + "elsewhere/", continue_token=first.continue_token)


@scenario
async def watch_replays_then_follows(s: Storage, p: str) -> None:
    a = await s.create(p + "a", book("a", n=0))
    start = rv(a)
    a2 = await s.update(p + "a", a | {"spec": {"n": 1}}, expected=start)
    await s.create(p + "b", book("b"))
    await s.create(p.rstrip("/") + "-other/c", book("c"))  # outside: never seen
    gone = await s.delete(p + "a")
    events = s.watch(p, start)
    replayed = await take(events, 3)
    assert [(e.type, e.object["metadata"]["name"]) for e in replayed] == [
        ("MODIFIED", "a"),
        ("ADDED", "b"),
        ("DELETED", "a"),
    ]
    assert replayed[0].object == a2
    assert replayed[2].object["spec"] == {"n": 1} and replayed[2].revision == rv(gone)
    assert [e.revision for e in replayed] == sorted(e.revision for e in replayed)

    async def later() -> None:
        await asyncio.sleep(0.2)
        await s.create(p + "d", book("d"))

    writer = asyncio.create_task(later())
    live = await take(events, 1)
    await writer
    assert live[0].type == "ADDED" and live[0].object["metadata"]["name"] == "d"
    await events.aclose()  # type: ignore[attr-defined]


@scenario
async def compaction_answers_gone(s: Storage, p: str) -> None:
    made = await s.create(p + "a", book("a", n=0))
    for i in range(1, 4):
        current = await s.get(p + "a")
        await s.update(p + "a", current | {"spec": {"n": i}}, expected=rv(current))
    await s.create(p + "b", book("b"))
    page = await s.list(p, limit=1)
    b = await s.get(p + "b")
    await s.update(p + "b", b | {"spec": {"n": 1}}, expected=rv(b))  # the page's snapshot is now history
    latest = await s.revision()
    await s.compact(latest)
    with pytest.raises(Expired) as gone:
        await take(s.watch(p, rv(made)), 1)
    assert gone.value.code == 410 and "too old resource version" in str(gone.value)
    with pytest.raises(Expired) as old_page:
        await s.list(p, limit=1, continue_token=page.continue_token)
    assert "continue parameter is too old" in str(old_page.value)
    assert (await s.get(p + "a"))["spec"] == {"n": 3}, "compaction keeps the current state"
    assert len((await s.list(p)).items) == 2

    async def later() -> None:
        await asyncio.sleep(0.2)
        await s.create(p + "c", book("c"))

    writer = asyncio.create_task(later())
    after = await take(s.watch(p, latest), 1)  # the relist's revision works
    await writer
    assert after[0].object["metadata"]["name"] == "c"
