"""The operator against a real API server (book 3.3.6, envtest): the generated CRD, the webhooks
and the policy as kube-apiserver applies them, and the controller's writes as it answers them.
Nothing else runs (no controller-manager): the Jobs the controller makes are only stored, and
the controller's clock is a fake one, so a run is due the moment the test says so."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from kubelab_client.errors import ApiError
from kubelab_client.kube import Api
from kubelab_client.objects import parse_time
from kubelab_operator.api.resource import SCHEDULED_AT
from kubelab_operator.controller.engine import CRONJOBS, JOBS, Controller
from kubelab_operator.schedule import job_name

V1, V2 = "batch.kubelab.dev/v1", "batch.kubelab.dev/v2"
BASE = "/apis/batch.kubelab.dev"


def cronjob(name: str, ns: str, schedule: Any = "*/1 * * * *", version: str = V1, **spec: Any) -> dict[str, Any]:
    template = {"spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]}}}}
    return {
        "apiVersion": version,
        "kind": "CronJob",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"schedule": schedule, "jobTemplate": template, **spec},
    }


def create(api: Api, obj: dict[str, Any], **query: str) -> dict[str, Any]:
    ns, version = obj["metadata"]["namespace"], obj["apiVersion"].split("/")[1]
    return api.request("POST", f"{BASE}/{version}/namespaces/{ns}/cronjobs", query or None, obj)


def read(api: Api, ns: str, name: str, version: str = "v1") -> dict[str, Any]:
    return api.request("GET", f"{BASE}/{version}/namespaces/{ns}/cronjobs/{name}")


def refused(api: Api, obj: dict[str, Any], **query: str) -> ApiError:
    with pytest.raises(ApiError) as caught:
        create(api, obj, **query)
    return caught.value


@pytest.fixture
def ns(api: Api, request: pytest.FixtureRequest) -> Iterator[str]:
    name = request.node.name.replace("_", "-")[:50].strip("-")
    api.request("POST", "/api/v1/namespaces", body={"metadata": {"name": name}})
    yield name


def test_the_generated_crd_serves_both_versions(api: Api) -> None:
    group = api.request("GET", BASE)
    assert [v["version"] for v in group["versions"]] == ["v2", "v1"]  # discovery lists the highest first
    crd = api.request("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/cronjobs.batch.kubelab.dev")
    assert crd["status"]["storedVersions"] == ["v1"]
    assert crd["status"]["acceptedNames"]["shortNames"] == ["kcj"]


def test_the_schema_refuses_wrong_types_unknown_fields_and_empty_v2_schedules(api: Api, ns: str) -> None:
    wrong = refused(api, cronjob("wrong", ns, schedule=5))
    assert (
        wrong.status == 422
        and 'spec.schedule: Invalid value: "integer": spec.schedule in body must be of type string' in str(wrong)
    )
    unknown = refused(api, cronjob("unknown", ns, bogus=1), fieldValidation="Strict")
    assert 'unknown field "spec.bogus"' in str(unknown)
    empty = refused(api, cronjob("empty", ns, schedule={}, version=V2))
    assert empty.status == 422 and "set at least one field of the schedule" in str(empty)
    bounded = refused(api, cronjob("bounded", ns, startingDeadlineSeconds=-1))
    assert "spec.startingDeadlineSeconds" in str(bounded)


def test_the_webhooks_default_and_refuse_with_the_tutorials_messages(api: Api, ns: str) -> None:
    made = create(api, cronjob("defaults", ns))
    assert made["spec"]["concurrencyPolicy"] == "Allow" and made["spec"]["successfulJobsHistoryLimit"] == 3
    bad = refused(api, cronjob("bad-schedule", ns, schedule="invalid-cron-schedule"))
    assert bad.status == 422
    assert "Expected exactly 5 fields, found 1: invalid-cron-schedule" in str(bad)
    long = refused(api, cronjob("x" * 53, ns))
    assert "metadata.name" in str(long) and "must be no more than 52 characters" in str(long)
    with pytest.raises(ApiError):
        read(api, ns, "bad-schedule")  # nothing half-created


def test_the_policy_refuses_in_its_namespaces(api: Api) -> None:
    api.request(
        "POST",
        "/api/v1/namespaces",
        body={"metadata": {"name": "policy", "labels": {"kubelab.dev/cronjob-validation": "policy"}}},
    )
    denied = refused(api, cronjob("bad-schedule", "policy", schedule="invalid-cron-schedule"))
    assert "ValidatingAdmissionPolicy 'kubelab-cronjob-policy'" in str(denied)
    assert "Expected exactly 5 fields, found 1: invalid-cron-schedule" in str(denied)


def test_conversion_round_trips_through_the_api_server(api: Api, ns: str) -> None:
    create(api, cronjob("as-v2", ns, schedule={"minute": "5", "hour": "3"}, version=V2, suspend=True))
    assert read(api, ns, "as-v2")["spec"]["schedule"] == "5 3 * * *"
    create(api, cronjob("hourly", ns, schedule="@hourly", suspend=True))
    assert read(api, ns, "hourly", "v2")["spec"]["schedule"] == {"minute": "0"}
    assert read(api, ns, "hourly")["spec"]["schedule"] == "@hourly"
    listed = api.request("GET", f"{BASE}/v2/namespaces/{ns}/cronjobs")
    assert {o["apiVersion"] for o in listed["items"]} == {V2} and len(listed["items"]) == 2


def controller_at(api: Api, when: datetime) -> Controller:
    return Controller(api, workers=1, clock=lambda: when)


def jobs(api: Api, ns: str) -> list[dict[str, Any]]:
    return list(api.request("GET", JOBS.collection_path(ns))["items"])


def test_one_job_per_run_even_from_a_stale_cache(api: Api, ns: str) -> None:
    made = create(api, cronjob("every-minute", ns))
    created = parse_time(made["metadata"]["creationTimestamp"])
    assert created is not None
    now = created + timedelta(seconds=90)
    due = now.replace(second=0, microsecond=0)  # the latest run due by then
    controller = controller_at(api, now)
    controller.cronjob_seen(made)
    after = controller.reconcile_key((ns, "every-minute"))
    (job,) = jobs(api, ns)
    assert job["metadata"]["name"] == job_name("every-minute", due)
    assert job["metadata"]["annotations"][SCHEDULED_AT] == due.strftime("%Y-%m-%dT%H:%M:%SZ")
    (owner,) = job["metadata"]["ownerReferences"]
    assert owner["uid"] == made["metadata"]["uid"] and owner["controller"] is True
    assert after is not None and 0 < after <= 60  # back exactly at the next run

    controller.cronjob_seen(made)  # the cache has not seen the Job nor the status yet
    controller.reconcile_key((ns, "every-minute"))  # the same run again: 409 AlreadyExists, counted as made
    assert len(jobs(api, ns)) == 1
    controller.cronjob_seen(read(api, ns, "every-minute"))
    controller.job_seen(job)
    controller.reconcile_key((ns, "every-minute"))
    status = read(api, ns, "every-minute")["status"]  # rebuilt from the Jobs, as upstream
    assert [a["name"] for a in status["active"]] == [job["metadata"]["name"]]
    assert status["lastScheduleTime"] == due.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_replace_deletes_the_running_job(api: Api, ns: str) -> None:
    made = create(api, cronjob("replace", ns, concurrencyPolicy="Replace"))
    created = parse_time(made["metadata"]["creationTimestamp"])
    assert created is not None
    first = controller_at(api, created + timedelta(seconds=70))
    first.cronjob_seen(made)
    first.reconcile_key((ns, "replace"))
    (old,) = jobs(api, ns)
    later = controller_at(api, created + timedelta(seconds=130))
    later.cronjob_seen(read(api, ns, "replace"))
    later.job_seen(old)  # still running: no Complete or Failed condition
    later.reconcile_key((ns, "replace"))
    names = [j["metadata"]["name"] for j in jobs(api, ns)]
    assert old["metadata"]["name"] not in names and len(names) == 1


def test_status_and_spec_are_written_apart(api: Api, ns: str) -> None:
    """The CRD's status subresource: /status takes status only, the object itself everything but status."""
    create(api, cronjob("apart", ns, suspend=True))
    stamp = "2026-01-01T00:00:00Z"
    api.patch(
        CRONJOBS, "apart", {"spec": {"suspend": False}, "status": {"lastScheduleTime": stamp}}, ns, subresource="status"
    )
    got = read(api, ns, "apart")
    assert got["spec"]["suspend"] is True and got["status"]["lastScheduleTime"] == stamp
    api.patch(CRONJOBS, "apart", {"spec": {"suspend": False}, "status": {"lastScheduleTime": None}}, ns)
    got = read(api, ns, "apart")
    assert got["spec"]["suspend"] is False and got["status"]["lastScheduleTime"] == stamp


def test_a_reconcile_that_raises_is_retried_and_the_worker_survives(api: Api, ns: str) -> None:
    """As controller-runtime recovers a panicking reconcile: logged, requeued with backoff, worker alive."""
    made = create(api, cronjob("raises", ns))
    controller = Controller(api, workers=1)
    calls: list[int] = []

    def broken(key: tuple[str, str]) -> float | None:
        calls.append(1)
        raise NotImplementedError("TODO(3.1)")

    controller.reconcile_key = broken  # type: ignore[method-assign]
    controller.start()
    try:
        controller.cronjob_seen(made)
        deadline = time.monotonic() + 5
        while len(calls) < 3 and time.monotonic() < deadline:  # 5 ms, 10 ms, 20 ms... apart
            time.sleep(0.01)
        assert len(calls) >= 3 and all(t.is_alive() for t in controller._threads)
    finally:
        controller.stop()
