"""The 7.3 admission webhooks on their own: a JSON Patch for the owner, a 403 for a password key,
nothing for ConfigMaps of the other ways, and a 400 Status for a body that is not an AdmissionReview."""

from __future__ import annotations

import base64
import json
from typing import Any

import jsonpatch
from fastapi.testclient import TestClient

from kubelab_apiserver.admission import rules
from kubelab_apiserver.authz.policy import default_rules
from kubelab_apiserver.webhooks import create_app

client = TestClient(create_app(None, {}, default_rules()))


def review(obj: dict[str, Any], operation: str = "CREATE", user: str = "alice") -> dict[str, Any]:
    request = {"uid": "u-1", "operation": operation, "object": obj, "userInfo": {"username": user}}
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}


def cm(way: str = "webhook", annotations: dict[str, str] | None = None, **data: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "c", "labels": {rules.BY_LABEL: way}}
    if annotations is not None:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def post(path: str, body: Any) -> dict[str, Any]:
    answer = client.post(path, json=body)
    assert answer.status_code == 200, answer.text
    out: dict[str, Any] = answer.json()["response"]
    assert out["uid"] == "u-1"
    return out


def patched(obj: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    assert response["allowed"] and response["patchType"] == "JSONPatch"
    ops = json.loads(base64.b64decode(response["patch"]))
    out: dict[str, Any] = jsonpatch.apply_patch(obj, ops)
    return out


def test_the_owner_defaults_to_the_creator_with_or_without_annotations() -> None:
    for before in (None, {"other": "x"}):
        obj = cm(annotations=before)
        after = patched(obj, post("/admission/mutate", review(obj)))
        assert after["metadata"]["annotations"] == {**(before or {}), rules.OWNER_ANNOTATION: "alice"}


def test_a_given_owner_updates_and_other_ways_are_left_alone() -> None:
    given = cm(annotations={rules.OWNER_ANNOTATION: "carol"})
    assert "patch" not in post("/admission/mutate", review(given))
    assert "patch" not in post("/admission/mutate", review(cm(), "UPDATE"))
    assert "patch" not in post("/admission/mutate", review(cm("plugin")))
    assert post("/admission/validate", review(cm("policy", password="x")))["allowed"]


def test_a_password_key_is_denied_with_a_403_naming_the_first() -> None:
    for operation in ("CREATE", "UPDATE"):
        out = post("/admission/validate", review(cm(b="1", zpassword="x", DB_PASSWORD="y"), operation))
        assert not out["allowed"]
        assert (out["status"]["code"], out["status"]["reason"]) == (403, "Forbidden")
        assert out["status"]["message"] == 'key "DB_PASSWORD" looks like a password: put it in a Secret'
    obj = cm(a="1")
    obj["binaryData"] = {"my.password": "AA=="}
    assert 'key "my.password"' in post("/admission/validate", review(obj))["status"]["message"]
    assert post("/admission/validate", review(cm(a="1")))["allowed"]


def test_not_a_review_is_a_400_status() -> None:
    for body in ({"kind": "AdmissionReview"}, [1]):
        answer = client.post("/admission/validate", json=body)
        assert answer.status_code == 400 and answer.json()["reason"] == "BadRequest", answer.text
    answer = client.post("/admission/mutate", content=b"{not json", headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and "not JSON" in answer.json()["message"]
