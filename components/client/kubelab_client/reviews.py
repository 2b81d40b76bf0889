"""The AdmissionReview (admission.k8s.io/v1) kube-apiserver sends an admission webhook and what it
expects back, and the 400 ``Status`` for a body that is not one.

``request.uid`` must come back in ``response.uid``; a denial carries a ``Status`` (code, reason,
message, details.causes); a mutation is a base64 JSON Patch with ``patchType: JSONPatch``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from kubelab_client.objects import failure_status


class Loose(BaseModel):
    """A review document: the fields we read are checked, the rest kept as sent."""

    model_config = ConfigDict(extra="allow")


class UserInfo(Loose):
    username: str = ""
    uid: str | None = None
    groups: list[str] = []


class AdmissionRequest(Loose):
    uid: str
    operation: Literal["CREATE", "UPDATE", "DELETE", "CONNECT"]
    object: dict[str, Any] | None = None
    oldObject: dict[str, Any] | None = None
    name: str | None = None
    namespace: str | None = None
    dryRun: bool | None = None
    userInfo: UserInfo = UserInfo()


class AdmissionReview(Loose):
    apiVersion: Literal["admission.k8s.io/v1"]
    kind: Literal["AdmissionReview"]
    request: AdmissionRequest


class BadReview(ValueError):
    """The body is not the review this endpoint takes; ``status`` is the 400 answer."""

    def __init__(self, expected: str, detail: str) -> None:
        super().__init__(f"the request body is not a valid {expected}: {detail}")
        self.status = bad_request(str(self))


def bad_request(message: str) -> dict[str, Any]:
    return failure_status(400, "BadRequest", message)


def describe(exc: ValidationError) -> str:
    """The first problem pydantic found, and how many more."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return f"{where}: {first['msg']}" + (f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else "")


def parse_admission(body: Any) -> AdmissionReview:
    try:
        return AdmissionReview.model_validate(body)
    except ValidationError as exc:
        raise BadReview("admission.k8s.io/v1 AdmissionReview", describe(exc)) from exc


def admission_response(
    uid: str,
    *,
    allowed: bool,
    status: dict[str, Any] | None = None,
    patch: str | None = None,
    warnings: list[str] | None = None,
) -> dict[str, Any]:
    response: dict[str, Any] = {"uid": uid, "allowed": allowed}
    if status is not None:
        response["status"] = status
    if patch is not None:
        response["patchType"] = "JSONPatch"
        response["patch"] = patch
    if warnings:
        response["warnings"] = warnings
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}
