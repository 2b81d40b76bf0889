"""Conversion between v1 (hub) and v2: round trips keep the meaning; what cannot convert says why."""

from __future__ import annotations

from typing import Any

import pytest

from kubelab_operator.api.conversion import ConversionError, convert

V1 = "batch.kubelab.dev/v1"
V2 = "batch.kubelab.dev/v2"


def v1(schedule: str) -> dict[str, Any]:
    return {
        "apiVersion": V1,
        "kind": "CronJob",
        "metadata": {"name": "a"},
        "spec": {"schedule": schedule, "jobTemplate": {"spec": {}}},
        "status": {"lastScheduleTime": "x"},
    }


def test_v1_to_v2_splits_and_drops_stars() -> None:
    out = convert(v1("*/1 * * * *"), V2)
    assert out["apiVersion"] == V2
    assert out["spec"]["schedule"] == {"minute": "*/1"}
    assert out["status"] == {"lastScheduleTime": "x"}


@pytest.mark.parametrize("schedule", ["*/1 * * * *", "0 3 * * 1-5", "5 4 1 2 *", "* * * * *"])
def test_round_trip(schedule: str) -> None:
    there = convert(v1(schedule), V2)
    back = convert(there, V1)
    assert back == v1(schedule)


def test_v2_to_v1_fills_stars() -> None:
    obj = {"apiVersion": V2, "kind": "CronJob", "spec": {"schedule": {"hour": "3", "dayOfWeek": "1-5"}}}
    assert convert(obj, V1)["spec"]["schedule"] == "* 3 * * 1-5"


@pytest.mark.parametrize(
    ("descriptor", "fields"),
    [("@hourly", {"minute": "0"}), ("@weekly", {"minute": "0", "hour": "0", "dayOfWeek": "0"})],
)
def test_descriptors_become_their_fields_and_come_back(descriptor: str, fields: dict[str, str]) -> None:
    out = convert(v1(descriptor), V2)
    assert out["spec"]["schedule"] == fields
    assert out["metadata"]["annotations"] == {"batch.kubelab.dev/v1-schedule": descriptor}
    assert convert(out, V1) == v1(descriptor)  # stored as v2, read as v1: the same text


def test_a_changed_v2_schedule_wins_over_the_kept_text() -> None:
    there = convert(v1("@hourly"), V2)
    there["spec"]["schedule"] = {"minute": "5"}
    back = convert(there, V1)
    assert back["spec"]["schedule"] == "5 * * * *" and "annotations" not in back["metadata"]


def test_no_annotation_when_the_fields_say_it_all() -> None:
    assert "annotations" not in convert(v1("0 3 * * 1-5"), V2)["metadata"]


@pytest.mark.parametrize("schedule", ["every minute", "0 * * * * *", ""])
def test_no_field_form_is_kept_and_restored(schedule: str) -> None:
    there = convert(v1(schedule), V2)
    assert there["spec"]["schedule"] == {}
    assert there["metadata"]["annotations"] == {"batch.kubelab.dev/v1-schedule": schedule}
    assert convert(there, V1) == v1(schedule)  # lossless: conversion never fails for a stored object


@pytest.mark.parametrize("version", ["batch.kubelab.dev/v3", "batch/v1", "v1"])
def test_unknown_versions(version: str) -> None:
    with pytest.raises(ConversionError, match="unsupported apiVersion"):
        convert(v1("* * * * *"), version)


def test_input_untouched() -> None:
    obj = v1("1 2 3 4 5")
    convert(obj, V2)
    assert obj == v1("1 2 3 4 5")
