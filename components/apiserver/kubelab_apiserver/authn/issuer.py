"""A token issuer, as an identity provider is to kube-apiserver's JWT authenticator: RS256 JWTs
signed with one key, its OpenID discovery document and its JWKS (the public key kube-apiserver
fetches to verify the signatures).

Tokens carry ``iss`` (the issuer URL, which must match the AuthenticationConfiguration's
``issuer.url`` exactly), ``aud``, ``sub``, ``iat``, ``nbf``, ``exp`` and whatever claims the caller adds
(``groups``, ``email``, ``department``...). A token is only as good as the key: :func:`load_key`
reads it from the Secret the issuer runs with; :func:`new_key` makes one.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

JWKS_PATH = "/openid/v1/jwks"
DISCOVERY_PATH = "/.well-known/openid-configuration"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_key(pem: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the issuer's key must be an RSA key")
    return key


@dataclass
class Issuer:
    url: str  # https://..., what kube-apiserver compares with the token's iss
    key: rsa.RSAPrivateKey

    @property
    def key_id(self) -> str:
        public = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return hashlib.sha256(public).hexdigest()[:16]

    def token(
        self,
        subject: str,
        *,
        audience: str | list[str],
        ttl: float = 600.0,
        issued_at: float | None = None,
        issuer: str | None = None,
        **claims: Any,
    ) -> str:
        """A signed token for ``subject``; ``issuer`` overrides ``iss`` (to make a wrong one)."""
        now = time.time() if issued_at is None else issued_at
        body = {
            "iss": issuer or self.url,
            "sub": subject,
            "aud": audience,
            "iat": int(now),
            "nbf": int(now) - 5,
            "exp": int(now + ttl),
            **claims,
        }
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": self.key_id})

    def jwks(self) -> dict[str, Any]:
        public: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        public.update({"kid": self.key_id, "use": "sig", "alg": "RS256"})
        return {"keys": [public]}

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "jwks_uri": self.url.rstrip("/") + JWKS_PATH,
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }
