"""The SubjectAccessReview webhook: kube-apiserver POSTs a ``SubjectAccessReview``
(authorization.k8s.io/v1) for each request its AuthorizationConfiguration sends here (after the
match conditions); the answer's ``status`` allows, denies, or has no opinion (neither). A body that
is not a SubjectAccessReview is 400; the webhook never answers "allowed" for what it did not read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from kubelab_apiserver.authz.policy import Rule, decide
from kubelab_client.objects import failure_status

API_VERSION = "authorization.k8s.io/v1"


def review(rules: Sequence[Rule], body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or body.get("kind") != "SubjectAccessReview" or body.get("apiVersion") != API_VERSION:
        raise ValueError(f"expected a {API_VERSION} SubjectAccessReview")
    spec = body.get("spec")
    if not isinstance(spec, dict) or not (spec.get("resourceAttributes") or spec.get("nonResourceAttributes")):
        raise ValueError("spec.resourceAttributes or spec.nonResourceAttributes is required")
    return {"apiVersion": API_VERSION, "kind": "SubjectAccessReview", "status": decide(rules, spec).status()}


def routes(app: FastAPI, rules: Sequence[Rule], path: str = "/authorize") -> None:
    @app.post(path)
    async def authorize(request: Request) -> JSONResponse:
        try:
            return JSONResponse(review(rules, await request.json()))
        except ValueError as exc:
            return JSONResponse(failure_status(400, "BadRequest", str(exc)), status_code=400)
