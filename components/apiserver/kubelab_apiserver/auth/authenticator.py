"""Who is asking, in the generic API server's order: the front proxy's headers (only from the
front proxy), a client certificate from the client CA, a bearer token (TokenReview), else
anonymous (when allowed). Every authenticated user is in ``system:authenticated``.
"""

from __future__ import annotations

from collections.abc import Callable

from kubelab_apiserver.auth import requestheader, x509
from kubelab_apiserver.auth.delegation import Delegation
from kubelab_apiserver.auth.tokenreview import TokenReviewer
from kubelab_apiserver.auth.user import User, anonymous


class Authenticator:
    def __init__(
        self, delegation: Callable[[], Delegation], tokens: TokenReviewer | None = None, *, allow_anonymous: bool = True
    ) -> None:
        self.delegation, self.tokens, self.allow_anonymous = delegation, tokens, allow_anonymous

    async def authenticate(self, peer_der: bytes | None, headers: requestheader.Headers) -> User | None:
        current = self.delegation()
        if (user := requestheader.authenticate(peer_der, headers, current.requestheader)) is not None:
            return user
        if (user := x509.authenticate(peer_der, current.client_cas)) is not None:
            return user
        auth = next((v for k, v in headers if k == "authorization"), "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "bearer" and token.strip() and self.tokens is not None:
            return await self.tokens.authenticate(token.strip())  # a token that fails is a 401, not anonymous
        return anonymous() if self.allow_anonymous else None
