"""The webhook server's answers, in process (FastAPI's test client): defaults as a JSON Patch,
denials with the tutorial's messages as a 422 Status, conversions, and a 400 Status for bodies
that are not reviews."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from kubelab_operator import deployment
from kubelab_operator.webhooks.app import create_app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def review(obj: dict[str, Any], operation: str = "CREATE") -> dict[str, Any]:
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {"uid": "r-1", "operation": operation, "object": obj},
    }


def cronjob(name: str = "ok", schedule: str = "*/1 * * * *", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch.kubelab.dev/v1",
        "kind": "CronJob",
        "metadata": {"name": name},
        "spec": {"schedule": schedule, "jobTemplate": {"spec": {}}, **spec},
    }


def test_defaults_only_where_unset(client: TestClient) -> None:
    got = client.post(deployment.MUTATE_PATH, json=review(cronjob(suspend=True))).json()["response"]
    assert got["uid"] == "r-1" and got["allowed"] is True and got["patchType"] == "JSONPatch"
    ops = json.loads(base64.b64decode(got["patch"]))
    assert {o["path"]: o["value"] for o in ops} == {
        "/spec/concurrencyPolicy": "Allow",
        "/spec/successfulJobsHistoryLimit": 3,
        "/spec/failedJobsHistoryLimit": 1,
    }


def test_nothing_to_default(client: TestClient) -> None:
    full = cronjob(concurrencyPolicy="Forbid", suspend=False, successfulJobsHistoryLimit=0, failedJobsHistoryLimit=0)
    got = client.post(deployment.MUTATE_PATH, json=review(full)).json()["response"]
    assert "patch" not in got and got["allowed"] is True


def test_valid_is_allowed(client: TestClient) -> None:
    got = client.post(deployment.VALIDATE_PATH, json=review(cronjob())).json()["response"]
    assert got == {"uid": "r-1", "allowed": True}


def test_invalid_schedule_and_long_name_denied_with_both_reasons(client: TestClient) -> None:
    name = "x" * 53
    got = client.post(deployment.VALIDATE_PATH, json=review(cronjob(name, "invalid-cron-schedule"), "UPDATE"))
    status = got.json()["response"]["status"]
    assert got.json()["response"]["allowed"] is False
    assert status["code"] == 422 and status["reason"] == "Invalid"
    assert status["message"] == (
        f'CronJob.batch.kubelab.dev "{name}" is invalid: [metadata.name: Invalid value: "{name}": must be no more '
        'than 52 characters, spec.schedule: Invalid value: "invalid-cron-schedule": Expected exactly 5 fields, '
        "found 1: invalid-cron-schedule]"
    )
    assert [c["field"] for c in status["details"]["causes"]] == ["metadata.name", "spec.schedule"]


def test_delete_is_not_validated(client: TestClient) -> None:
    body = review(cronjob("x" * 60), "DELETE")
    assert client.post(deployment.VALIDATE_PATH, json=body).json()["response"]["allowed"] is True


@pytest.mark.parametrize("path", [deployment.MUTATE_PATH, deployment.VALIDATE_PATH, deployment.CONVERT_PATH])
@pytest.mark.parametrize("body", [b"not json", b"{}", b'{"apiVersion": "v1", "kind": "Pod"}'])
def test_not_a_review_is_a_400_status(client: TestClient, path: str, body: bytes) -> None:
    got = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert got.status_code == 400
    status = got.json()
    assert status["kind"] == "Status" and status["reason"] == "BadRequest" and status["code"] == 400
    assert "not" in status["message"]


def conversion(objects: list[dict[str, Any]], desired: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "ConversionReview",
        "request": {"uid": "c-1", "desiredAPIVersion": desired, "objects": objects},
    }


def test_conversion_keeps_order_and_count(client: TestClient) -> None:
    objs = [cronjob("a", "1 * * * *"), cronjob("b", "* 2 * * *")]
    got = client.post(deployment.CONVERT_PATH, json=conversion(objs, "batch.kubelab.dev/v2")).json()["response"]
    assert got["uid"] == "c-1" and got["result"] == {"status": "Success"}
    assert [o["metadata"]["name"] for o in got["convertedObjects"]] == ["a", "b"]
    assert [o["spec"]["schedule"] for o in got["convertedObjects"]] == [{"minute": "1"}, {"hour": "2"}]
    assert all(o["apiVersion"] == "batch.kubelab.dev/v2" for o in got["convertedObjects"])


def test_conversion_to_an_unknown_version_fails_in_the_review(client: TestClient) -> None:
    got = client.post(deployment.CONVERT_PATH, json=conversion([cronjob()], "batch.kubelab.dev/v9"))
    assert got.status_code == 200
    result = got.json()["response"]["result"]
    assert result["status"] == "Failure" and "unsupported apiVersion 'batch.kubelab.dev/v9'" in result["message"]


def test_requests_are_counted_per_webhook_and_code(client: TestClient) -> None:
    def count(code: str) -> float:
        value = REGISTRY.get_sample_value(
            "controller_runtime_webhook_requests_total", {"webhook": deployment.VALIDATE_PATH, "code": code}
        )
        return value or 0.0

    before_ok, before_bad = count("200"), count("400")
    client.post(deployment.VALIDATE_PATH, json=review(cronjob()))
    client.post(deployment.VALIDATE_PATH, content=b"[]")
    assert (count("200"), count("400")) == (before_ok + 1, before_bad + 1)
