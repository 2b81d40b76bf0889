"""The scheduling queue with a fake clock: order, backoff, and moves on the events that matter."""

from __future__ import annotations

from kubelab_scheduler.framework.runtime import Handle
from kubelab_scheduler.plugins.queuesort import PrioritySort
from kubelab_scheduler.queue import SchedulingQueue

from .builders import pod


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def queue(clock: Clock) -> SchedulingQueue:
    events = {"NodeAdd": {"NodeResourcesFit", "TaintToleration"}, "AssignedPodDelete": {"NodeResourcesFit"}}
    return SchedulingQueue(PrioritySort({}, Handle()).less, plugins_for_event=events, clock=clock)


def names(q: SchedulingQueue) -> list[str]:
    out = []
    while (info := q.pop(timeout=0)) is not None:
        out.append(info.pod["metadata"]["name"])
        q.done(info)
    return out


def test_priority_then_age() -> None:
    clock = Clock()
    q = queue(clock)
    for name, prio in (("low", 0), ("high", 10), ("low2", 0), ("mid", 5)):
        q.add(pod(name, priority=prio))
        clock.now += 1
    assert names(q) == ["high", "mid", "low", "low2"]


def test_backoff_doubles_from_one_to_ten_seconds() -> None:
    q = queue(Clock())
    assert [q.backoff_duration(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]


def test_unschedulable_waits_for_an_event_its_plugins_care_about() -> None:
    clock = Clock()
    q = queue(clock)
    q.add(pod("big"))
    info = q.pop(timeout=0)
    assert info is not None
    q.add_unschedulable(info, {"NodeResourcesFit"})
    assert q.pop(timeout=0) is None
    assert q.move_all_to_active_or_backoff("NodeUpdate") == 0  # no plugin of its cares
    assert q.move_all_to_active_or_backoff("AssignedPodDelete") == 1  # resources freed
    assert q.pop(timeout=0) is None  # still backing off (1 s after its first attempt)
    clock.now += 1.01
    again = q.pop(timeout=0)
    assert again is not None and again.attempts == 2


def test_a_move_while_in_flight_is_not_lost() -> None:
    clock = Clock()
    q = queue(clock)
    q.add(pod("a"))
    info = q.pop(timeout=0)
    assert info is not None
    q.move_all_to_active_or_backoff("NodeAdd")  # a node arrived while "a" was being scheduled
    q.add_unschedulable(info, {"NodeResourcesFit"})
    clock.now += 1.01
    assert names(q) == ["a"]  # went to backoff, not to the unschedulable pods


def test_errors_retry_after_backoff_and_leftovers_after_five_minutes() -> None:
    clock = Clock()
    q = queue(clock)
    q.add(pod("err"))
    q.add(pod("stuck"))
    first, second = q.pop(timeout=0), q.pop(timeout=0)
    assert first is not None and second is not None
    q.add_unschedulable(first, set())  # an error: backoff only
    q.add_unschedulable(second, {"NodeAffinity"})  # no event will ever move it
    clock.now += 1.01
    assert names(q) == ["err"]
    clock.now += 301
    assert q.flush_unschedulable() == 1
    assert names(q) == ["stuck"]


def test_delete_and_update() -> None:
    clock = Clock()
    q = queue(clock)
    q.add(pod("gone"))
    q.delete(pod("gone"))
    assert names(q) == []
    q.add(pod("u"))
    info = q.pop(timeout=0)
    assert info is not None
    q.add_unschedulable(info, {"NodeAffinity"})
    clock.now += 2
    q.update(pod("u", cpu="50m"))  # changed: another try
    got = q.pop(timeout=0)
    assert got is not None and got.pod["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "50m"


def test_irrelevant_events_while_in_flight_do_not_requeue() -> None:
    clock = Clock()
    q = queue(clock)
    q.add(pod("big"))
    info = q.pop(timeout=0)
    assert info is not None
    q.move_all_to_active_or_backoff("NodeUpdate")  # no plugin registered for it here
    q.add_unschedulable(info, {"NodeResourcesFit"})
    clock.now += 11
    assert names(q) == []  # waits with the unschedulable pods, not retried every backoff
