"""The webhook server's routes (FastAPI): what each review gets back.

=====================================  =======================  ===============================
path                                    review                   answers
=====================================  =======================  ===============================
``/mutate-batch-kubelab-dev-v1-cronjob``  AdmissionReview          a JSON Patch of the defaults
``/validate-batch-kubelab-dev-v1-cronjob`` AdmissionReview         allowed, or a 422 Invalid denial
``/convert``                            ConversionReview         the objects in the desired version
=====================================  =======================  ===============================

A body that is not the review the path takes gets HTTP 400 with a Kubernetes ``Status``
(``reason: BadRequest``) saying what is wrong. Each request is counted and timed with
controller-runtime's webhook metrics, labelled by path.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from kubelab_operator import deployment, metrics
from kubelab_operator.api.conversion import ConversionError, convert
from kubelab_operator.webhooks import reviews
from kubelab_operator.webhooks.defaulting import default_patch, encode
from kubelab_operator.webhooks.validation import invalid_status, validate

log = logging.getLogger(__name__)
Handler = Callable[[Any], dict[str, Any]]


def mutate(body: Any) -> dict[str, Any]:
    review = reviews.parse_admission(body)
    req = review.request
    ops = default_patch(req.object or {}) if req.operation in ("CREATE", "UPDATE") else []
    return reviews.admission_response(req.uid, allowed=True, patch=encode(ops) if ops else None)


def validate_review(body: Any) -> dict[str, Any]:
    review = reviews.parse_admission(body)
    req = review.request
    if req.operation not in ("CREATE", "UPDATE") or req.object is None:
        return reviews.admission_response(req.uid, allowed=True)
    errors = validate(req.object)
    if not errors:
        return reviews.admission_response(req.uid, allowed=True)
    return reviews.admission_response(req.uid, allowed=False, status=invalid_status(req.object, errors))


def convert_review(body: Any) -> dict[str, Any]:
    review = reviews.parse_conversion(body)
    req = review.request
    try:
        converted = [convert(obj, req.desiredAPIVersion) for obj in req.objects]
    except ConversionError as exc:
        return reviews.conversion_response(req.uid, None, str(exc))
    return reviews.conversion_response(req.uid, converted)


ROUTES: dict[str, Handler] = {
    deployment.MUTATE_PATH: mutate,
    deployment.VALIDATE_PATH: validate_review,
    deployment.CONVERT_PATH: convert_review,
}


def _endpoint(path: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    latency = metrics.WEBHOOK_LATENCY.labels(webhook=path)
    in_flight = metrics.WEBHOOK_IN_FLIGHT.labels(webhook=path)

    async def endpoint(request: Request) -> Response:
        started = time.perf_counter()
        in_flight.inc()
        code = 200
        try:
            raw = await request.body()
            try:
                body = json.loads(raw)
            except ValueError as exc:
                code = 400
                return JSONResponse(reviews.bad_request(f"the request body is not JSON: {exc}"), status_code=400)
            try:
                return JSONResponse(handler(body))
            except reviews.BadReview as exc:
                code = 400
                log.warning("%s: %s", path, exc)
                return JSONResponse(exc.status, status_code=400)
        finally:
            in_flight.dec()
            latency.observe(time.perf_counter() - started)
            metrics.WEBHOOK_REQUESTS.labels(webhook=path, code=str(code)).inc()

    return endpoint


def create_app() -> FastAPI:
    app = FastAPI(title="kubelab-operator webhooks", docs_url=None, redoc_url=None, openapi_url=None)
    for path, handler in ROUTES.items():
        app.add_api_route(path, _endpoint(path, handler), methods=["POST"])
    return app
