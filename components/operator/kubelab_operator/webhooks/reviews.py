"""The review documents the API server sends the operator's webhooks and expects back.

AdmissionReview (admission.k8s.io/v1) comes from the Chapter 2 client (kubelab_client.reviews),
shared with the API server lab's webhooks. ConversionReview (apiextensions.k8s.io/v1):
``convertedObjects`` in the same order and number as ``objects``, each with the desired
apiVersion; a failure is ``result.status: Failure`` with a message, always with HTTP 200.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ValidationError

from kubelab_client.reviews import (
    AdmissionRequest,
    AdmissionReview,
    BadReview,
    Loose,
    admission_response,
    bad_request,
    describe,
    parse_admission,
)

__all__ = [
    "AdmissionRequest",
    "AdmissionReview",
    "BadReview",
    "ConversionRequest",
    "ConversionReview",
    "admission_response",
    "bad_request",
    "conversion_response",
    "parse_admission",
    "parse_conversion",
]


class ConversionRequest(Loose):
    uid: str
    desiredAPIVersion: str
    objects: list[dict[str, Any]]


class ConversionReview(Loose):
    apiVersion: Literal["apiextensions.k8s.io/v1"]
    kind: Literal["ConversionReview"]
    request: ConversionRequest


def parse_conversion(body: Any) -> ConversionReview:
    try:
        return ConversionReview.model_validate(body)
    except ValidationError as exc:
        raise BadReview("apiextensions.k8s.io/v1 ConversionReview", describe(exc)) from exc


def conversion_response(uid: str, converted: list[dict[str, Any]] | None, error: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"uid": uid}
    if error is None:
        response["convertedObjects"] = converted or []
        response["result"] = {"status": "Success"}
    else:
        response["convertedObjects"] = []
        response["result"] = {"status": "Failure", "message": error}
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview", "response": response}
