"""May this user do this? Delegated authorization: a ``SubjectAccessReview`` to kube-apiserver
(RBAC decides there), cached for ``allow_ttl`` / ``deny_ttl`` seconds (the generic API server's
10 s each). ``system:masters`` is always allowed and the health paths are open to everyone,
as the generic API server does (``--authorization-always-allow-paths``).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any, Protocol

from kubelab_apiserver.aggregated.requestinfo import RequestInfo
from kubelab_apiserver.auth.user import MASTERS, User
from kubelab_client.errors import ClientError
from kubelab_client.kube import Api

PATH = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
ALWAYS_ALLOW_PATHS = ("/healthz", "/readyz", "/livez")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""


class Authorizer(Protocol):
    async def authorize(self, user: User, info: RequestInfo) -> Decision: ...


class AlwaysAllow:
    """For a server run alone (tests, a laptop): every authenticated request is allowed."""

    async def authorize(self, user: User, info: RequestInfo) -> Decision:
        return Decision(True, "AlwaysAllow")


def always_allowed(user: User, info: RequestInfo) -> Decision | None:
    if not info.is_resource and info.path in ALWAYS_ALLOW_PATHS:
        return Decision(True, "always allowed path")
    if MASTERS in user.groups:
        return Decision(True, f"{MASTERS} is always allowed")
    return None


def review_spec(user: User, info: RequestInfo) -> dict[str, Any]:
    spec: dict[str, Any] = dict(user.to_review())
    if info.is_resource:
        spec["resourceAttributes"] = {
            k: v
            for k, v in {
                "namespace": info.namespace,
                "verb": info.verb,
                "group": info.group,
                "version": info.version,
                "resource": info.resource,
                "subresource": info.subresource,
                "name": info.name,
            }.items()
            if v
        }
    else:
        spec["nonResourceAttributes"] = {"path": info.path, "verb": info.verb}
    return spec


class SubjectAccessReviewer:
    def __init__(self, api: Api, *, allow_ttl: float = 10.0, deny_ttl: float = 10.0) -> None:
        self.api, self.allow_ttl, self.deny_ttl = api, allow_ttl, deny_ttl
        self._cache: dict[str, tuple[float, Decision]] = {}
        self.reviews = 0

    def _review(self, spec: dict[str, Any]) -> dict[str, Any]:
        self.reviews += 1
        body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec}
        return self.api.request("POST", PATH, body=body)

    async def authorize(self, user: User, info: RequestInfo) -> Decision:
        if (fixed := always_allowed(user, info)) is not None:
            return fixed
        spec = review_spec(user, info)
        key = json.dumps(spec, sort_keys=True)
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached and cached[0] > now:
            return cached[1]
        try:
            status = (await asyncio.to_thread(self._review, spec)).get("status") or {}
        except ClientError as exc:
            return Decision(False, f"the authorization check failed: {exc}")  # not cached
        decision = Decision(
            bool(status.get("allowed")), str(status.get("reason") or status.get("evaluationError") or "")
        )
        self._cache[key] = (now + (self.allow_ttl if decision.allowed else self.deny_ttl), decision)
        if len(self._cache) > 4096:
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
        return decision
