"""The tutorial's schedule logic, table-driven, with a fake clock (fixed datetimes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kubelab_operator.schedule import (
    ScheduleError,
    TooManyMissedRuns,
    job_name,
    missed_and_next,
    parse,
)

T0 = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)  # the object's creationTimestamp in most rows


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("invalid-cron-schedule", "Expected exactly 5 fields, found 1"),
        ("* * * *", "Expected exactly 5 fields, found 4"),
        ("0 * * * * *", "Expected exactly 5 fields, found 6"),  # seconds are not standard cron
        ("61 * * * *", "invalid cron schedule"),
        ("@every 5m", "unrecognized descriptor"),
        ("", "Expected exactly 5 fields, found 0"),
    ],
)
def test_bad_schedules_say_what_is_wrong(schedule: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message) as err:
        parse(schedule)
    assert err.value.render().startswith("operator: ") and "fix: " in err.value.render()


@pytest.mark.parametrize(
    ("name", "schedule", "now", "last", "deadline", "missed", "next_run"),
    [
        ("created just now: nothing missed", "*/1 * * * *", at(0.5), None, None, None, at(1)),
        ("one run due", "*/1 * * * *", at(1.5), None, None, at(1), at(2)),
        ("several missed: the latest counts", "*/1 * * * *", at(5.5), None, None, at(5), at(6)),
        ("exactly on a run: it is due", "*/1 * * * *", at(3), None, None, at(3), at(4)),
        ("since the last run, not creation", "*/1 * * * *", at(10.5), at(10), None, None, at(11)),
        ("the deadline clamps the start", "*/5 * * * *", at(12), None, 60, None, at(15)),
        ("a run inside the deadline", "*/5 * * * *", at(10.5), None, 60, at(10), at(15)),
        ("last run later than the deadline", "*/1 * * * *", at(30.2), at(30), 3600, None, at(31)),
        ("hourly descriptor", "@hourly", at(125), None, None, at(120), at(180)),
        ("last scheduled in the future (clock skew)", "*/1 * * * *", at(1), at(5), None, None, at(2)),
    ],
)
def test_missed_and_next(
    name: str,
    schedule: str,
    now: datetime,
    last: datetime | None,
    deadline: int | None,
    missed: datetime | None,
    next_run: datetime,
) -> None:
    runs = missed_and_next(
        parse(schedule), now=now, created=T0, last_scheduled=last, starting_deadline_seconds=deadline
    )
    assert (runs.missed, runs.next) == (missed, next_run), name


def test_more_than_100_missed_runs_is_an_error_unless_a_deadline_bounds_them() -> None:
    every_minute = parse("*/1 * * * *")
    assert missed_and_next(every_minute, now=at(100), created=T0).missed == at(100)  # exactly 100: fine
    with pytest.raises(TooManyMissedRuns, match=r"Too many missed start times \(> 100\)"):
        missed_and_next(every_minute, now=at(101), created=T0)
    bounded = missed_and_next(every_minute, now=at(10_000), created=T0, starting_deadline_seconds=200)
    assert bounded.missed == at(10_000) and bounded.next == at(10_001)


def test_job_names_are_one_per_run() -> None:
    assert job_name("hello", at(1)) == f"hello-{int(at(1).timestamp())}" == "hello-1796119260"
    assert job_name("hello", at(1).astimezone(datetime.now().astimezone().tzinfo)) == "hello-1796119260"


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="no timezone"):
        missed_and_next(parse("@daily"), now=datetime(2026, 12, 1), created=T0)
