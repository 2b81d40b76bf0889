"""A webhook token authenticator (``--authentication-token-webhook-config-file``): kube-apiserver
POSTs a ``TokenReview`` (authentication.k8s.io/v1) with the bearer token it could not authenticate
itself; the answer's ``status`` says whether it is valid and who it is.

Tokens come from a table (a YAML map ``token: {username, uid, groups, extra}``, the webhook's Secret).
An unknown token is ``authenticated: false`` with an ``error``, never an HTTP error (kube-apiserver
would log it and treat it as a failure of the webhook); a body that is not a TokenReview is 400.
The review's ``audiences`` are honoured: a token bound to audiences answers only for those.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from kubelab_client.objects import failure_status

API_VERSION = "authentication.k8s.io/v1"


@dataclass(frozen=True)
class Account:
    username: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    audiences: tuple[str, ...] = ()  # empty: any audience


def load_table(data: Mapping[str, Any]) -> dict[str, Account]:
    table = {}
    for token, entry in data.items():
        table[str(token)] = Account(
            str(entry["username"]),
            str(entry.get("uid", "")),
            tuple(entry.get("groups") or ()),
            {k: tuple(v) for k, v in (entry.get("extra") or {}).items()},
            tuple(entry.get("audiences") or ()),
        )
    return table


def review(table: Mapping[str, Account], body: Any) -> dict[str, Any]:
    """The TokenReview answer; ``ValueError`` for a body that is not a TokenReview."""
    if not isinstance(body, dict) or body.get("kind") != "TokenReview" or body.get("apiVersion") != API_VERSION:
        raise ValueError(f"expected a {API_VERSION} TokenReview")
    spec = body.get("spec") or {}
    token = spec.get("token")
    if not isinstance(token, str) or not token:
        raise ValueError("spec.token is required")
    wanted = [str(a) for a in spec.get("audiences") or []]
    found = next((a for t, a in table.items() if hmac.compare_digest(t.encode(), token.encode())), None)
    status: dict[str, Any]
    if found is None:
        status = {"authenticated": False, "error": "unknown token"}
    elif wanted and found.audiences and not set(wanted) & set(found.audiences):
        status = {"authenticated": False, "error": f"the token is not for the audiences {wanted}"}
    else:
        user: dict[str, Any] = {"username": found.username, "groups": list(found.groups)}
        if found.uid:
            user["uid"] = found.uid
        if found.extra:
            user["extra"] = {k: list(v) for k, v in found.extra.items()}
        status = {"authenticated": True, "user": user}
        if wanted:
            status["audiences"] = [a for a in wanted if not found.audiences or a in found.audiences]
    return {"apiVersion": API_VERSION, "kind": "TokenReview", "status": status}


def routes(app: FastAPI, table: Mapping[str, Account], path: str = "/authenticate") -> None:
    @app.post(path)
    async def authenticate(request: Request) -> JSONResponse:
        try:
            return JSONResponse(review(table, await request.json()))
        except ValueError as exc:
            return JSONResponse(failure_status(400, "BadRequest", str(exc)), status_code=400)
