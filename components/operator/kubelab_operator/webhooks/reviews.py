"""The review documents the API server sends and expects back, and the 400 ``Status`` for a
body that is not one.

AdmissionReview (admission.k8s.io/v1): ``request.uid`` must come back in ``response.uid``;
a denial carries a ``Status`` (code, reason, message, details.causes). ConversionReview
(apiextensions.k8s.io/v1): ``convertedObjects`` in the same order and number as ``objects``,
each with the desired apiVersion; a failure is ``result.status: Failure`` with a message,
always with HTTP 200.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from kubelab_client.objects import failure_status


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class AdmissionRequest(_Loose):
    uid: str
    operation: Literal["CREATE", "UPDATE", "DELETE", "CONNECT"]
    object: dict[str, Any] | None = None
    oldObject: dict[str, Any] | None = None
    name: str | None = None
    namespace: str | None = None
    dryRun: bool | None = None


class AdmissionReview(_Loose):
    apiVersion: Literal["admission.k8s.io/v1"]
    kind: Literal["AdmissionReview"]
    request: AdmissionRequest


class ConversionRequest(_Loose):
    uid: str
    desiredAPIVersion: str
    objects: list[dict[str, Any]]


class ConversionReview(_Loose):
    apiVersion: Literal["apiextensions.k8s.io/v1"]
    kind: Literal["ConversionReview"]
    request: ConversionRequest


class BadReview(ValueError):
    """The body is not the review this endpoint takes; ``status`` is the 400 answer."""

    def __init__(self, expected: str, detail: str) -> None:
        super().__init__(f"the request body is not a valid {expected}: {detail}")
        self.status = bad_request(str(self))


def bad_request(message: str) -> dict[str, Any]:
    return failure_status(400, "BadRequest", message)


def _describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return f"{where}: {first['msg']}" + (f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else "")


def parse_admission(body: Any) -> AdmissionReview:
    try:
        return AdmissionReview.model_validate(body)
    except ValidationError as exc:
        raise BadReview("admission.k8s.io/v1 AdmissionReview", _describe(exc)) from exc


def parse_conversion(body: Any) -> ConversionReview:
    try:
        return ConversionReview.model_validate(body)
    except ValidationError as exc:
        raise BadReview("apiextensions.k8s.io/v1 ConversionReview", _describe(exc)) from exc


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


def conversion_response(uid: str, converted: list[dict[str, Any]] | None, error: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"uid": uid}
    if error is None:
        response["convertedObjects"] = converted or []
        response["result"] = {"status": "Success"}
    else:
        response["convertedObjects"] = []
        response["result"] = {"status": "Failure", "message": error}
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview", "response": response}
