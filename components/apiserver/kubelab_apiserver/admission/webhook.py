"""The mutating and validating admission webhooks of 7.3 (FastAPI routes): kube-apiserver POSTs an
AdmissionReview for each ConfigMap its webhook configurations select (``by=webhook``, see
``registrations``); the mutating one answers a JSON Patch defaulting the owner, the validating one
allows or denies with a 403 ``Status`` naming the key. A body that is not an AdmissionReview is 400.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from kubelab_apiserver.admission import rules
from kubelab_apiserver.admission.registrations import MUTATE_PATH, VALIDATE_PATH
from kubelab_client.objects import failure_status
from kubelab_client.reviews import BadReview, admission_response, bad_request, parse_admission

WAY = "webhook"


def mutate(body: Any) -> dict[str, Any]:
    req = parse_admission(body).request
    if req.operation != "CREATE" or not rules.handled_by(req.object, WAY):
        return admission_response(req.uid, allowed=True)
    ops = rules.owner_patch(req.object or {}, req.userInfo.username)
    patch = base64.b64encode(json.dumps(ops).encode()).decode() if ops else None
    return admission_response(req.uid, allowed=True, patch=patch)


def validate(body: Any) -> dict[str, Any]:
    req = parse_admission(body).request
    if req.operation not in ("CREATE", "UPDATE") or not rules.handled_by(req.object, WAY):
        return admission_response(req.uid, allowed=True)
    key = rules.password_key(req.object or {})
    if key is None:
        return admission_response(req.uid, allowed=True)
    return admission_response(req.uid, allowed=False, status=failure_status(403, "Forbidden", rules.denial(key)))


def routes(app: FastAPI) -> None:
    for path, handler in ((MUTATE_PATH, mutate), (VALIDATE_PATH, validate)):
        app.add_api_route(path, _endpoint(handler), methods=["POST"])


Handler = Callable[[Any], dict[str, Any]]


def _endpoint(handler: Handler) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def endpoint(request: Request) -> JSONResponse:
        try:
            body = await request.json()
        except ValueError as exc:
            return JSONResponse(bad_request(f"the request body is not JSON: {exc}"), status_code=400)
        try:
            return JSONResponse(handler(body))
        except BadReview as exc:
            return JSONResponse(exc.status, status_code=400)

    return endpoint
