"""Bearer tokens, checked by the cluster: a ``TokenReview`` to kube-apiserver (delegated token
authentication; needs ``system:auth-delegator``). Answers are cached for ``ttl`` seconds by the
token's hash, as the generic API server caches them (10 s), so a burst of requests costs one review.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

from kubelab_apiserver.auth.user import AUTHENTICATED, User
from kubelab_client.errors import ClientError
from kubelab_client.kube import Api

PATH = "/apis/authentication.k8s.io/v1/tokenreviews"


class TokenReviewer:
    def __init__(self, api: Api, *, audiences: tuple[str, ...] = (), ttl: float = 10.0) -> None:
        self.api, self.audiences, self.ttl = api, audiences, ttl
        self._cache: dict[str, tuple[float, User | None]] = {}
        self.reviews = 0  # how many reached kube-apiserver (the cache's effect is visible in tests)

    def _review(self, token: str) -> dict[str, Any]:
        spec: dict[str, Any] = {"token": token}
        if self.audiences:
            spec["audiences"] = list(self.audiences)
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": spec}
        self.reviews += 1
        return self.api.request("POST", PATH, body=body)

    async def authenticate(self, token: str) -> User | None:
        key = hashlib.sha256(token.encode()).hexdigest()
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached and cached[0] > now:
            return cached[1]
        try:
            status = (await asyncio.to_thread(self._review, token)).get("status") or {}
        except ClientError:
            return None  # not cached: the next request asks again
        user: User | None = None
        if status.get("authenticated"):
            info = status.get("user") or {}
            groups = tuple(info.get("groups") or ())
            if AUTHENTICATED not in groups:
                groups = (*groups, AUTHENTICATED)
            extra = {k: tuple(v) for k, v in (info.get("extra") or {}).items()}
            user = User(str(info.get("username", "")), str(info.get("uid", "")), groups, extra, via="token")
        self._cache[key] = (now + self.ttl, user)
        if len(self._cache) > 4096:
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
        return user
