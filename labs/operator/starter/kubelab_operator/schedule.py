"""STARTER (chapter 3.1): one TODO below, marked ``TODO(3.1)``. Everything else works.

When a CronJob runs: the schedule logic of the upstream CronJob tutorial (kubebuilder book).

Pure functions of the spec, the status and *now* (a fake clock in tests):

- :func:`parse`: a standard cron schedule, five fields or a descriptor (``@hourly``,
  ``@daily``/``@midnight``, ``@weekly``, ``@monthly``, ``@yearly``/``@annually``); anything
  else is a :class:`ScheduleError` with the upstream parser's wording
  ("Expected exactly 5 fields, found 1").
- :func:`missed_and_next`: the latest run that should have started since the last one (or
  since the object was created), clamped to ``now - startingDeadlineSeconds`` when set, and
  the next run after *now*; more than 100 missed runs is :class:`TooManyMissedRuns`
  (a clock skew or a deadline that is too long), as upstream.
- :func:`job_name`: ``<cronjob>-<unix seconds of the scheduled time>``: one name per run,
  so a run is never created twice.

Times are timezone-aware UTC datetimes; the schedule is read in UTC, as the API server's
timestamps are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from croniter import croniter

from kubelab_kit.errors import KubelabError

MAX_MISSED = 100
DESCRIPTORS = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})


class ScheduleError(KubelabError):
    """The schedule does not parse; the CronJob cannot run (Degraded, reason InvalidSchedule)."""

    area = "operator"


class TooManyMissedRuns(KubelabError):
    """More than 100 runs were missed: upstream refuses to guess which one to start."""

    area = "operator"


@dataclass(frozen=True)
class Schedule:
    expression: str

    def next_after(self, when: datetime) -> datetime:
        """The first scheduled time strictly after ``when``."""
        got: datetime = croniter(self.expression, _utc(when)).get_next(datetime)
        return got.astimezone(UTC)


@dataclass(frozen=True)
class Runs:
    missed: datetime | None  # the latest run that should have started by now, if any
    next: datetime  # the next run after now: when to wake up


def parse(schedule: str) -> Schedule:
    """A standard cron schedule; ``ScheduleError`` saying what is wrong otherwise."""
    text = schedule.strip()
    if text.startswith("@"):
        if text.lower() not in DESCRIPTORS:
            raise ScheduleError(
                f"unrecognized descriptor: {text}",
                fix=f"use five cron fields or one of {', '.join(sorted(DESCRIPTORS))}",
            )
        return Schedule(text.lower())
    fields = text.split()
    if len(fields) != 5:
        raise ScheduleError(
            f"Expected exactly 5 fields, found {len(fields)}: {schedule}",
            fix="minute hour day-of-month month day-of-week, e.g. '*/1 * * * *'",
        )
    if not croniter.is_valid(text):
        raise ScheduleError(f"invalid cron schedule: {schedule}", fix="check each field's range and syntax")
    return Schedule(text)


def _utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError(f"{when!r} has no timezone: pass UTC datetimes")
    return when.astimezone(UTC)


def missed_and_next(
    schedule: Schedule,
    *,
    now: datetime,
    created: datetime,
    last_scheduled: datetime | None = None,
    starting_deadline_seconds: int | None = None,
) -> Runs:
    """The latest missed run and the next one, as the tutorial's ``getNextSchedule`` computes them."""
    now = _utc(now)
    # The tutorial's getNextSchedule, from the time of the last run (last_scheduled, or created if
    # it never ran), but never earlier than now - starting_deadline_seconds when that is set:
    # walk schedule.next_after(...) from there while the run is <= now, remembering the latest;
    # more than MAX_MISSED of them raises TooManyMissedRuns (with upstream's message).
    # Return Runs(latest missed run or None, schedule.next_after(now)).
    raise NotImplementedError("TODO(3.1): the latest missed run and the next one")


def job_name(cronjob: str, scheduled: datetime) -> str:
    """The Job of one run: ``<cronjob>-<unix seconds>``, deterministic, so a retried reconcile
    finds the Job it already made instead of making a second one."""
    return f"{cronjob}-{int(_utc(scheduled).timestamp())}"
