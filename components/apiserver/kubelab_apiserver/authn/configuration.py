"""The documents kube-apiserver reads: an ``AuthenticationConfiguration`` with the issuer's JWT
authenticator (claim mappings, CEL claim and user validation rules) and a webhook kubeconfig."""

from __future__ import annotations

import base64
from typing import Any

PREFIX = "kubelab:"


def jwt_authenticator(issuer: str, ca_pem: bytes, audiences: list[str]) -> dict[str, Any]:
    """One ``jwt`` entry: users are ``kubelab:<sub>``, groups ``kubelab:<group>``; a token must say which
    department it is for and live at most an hour, and no token may make anyone ``kubelab:root``."""
    return {
        "issuer": {
            "url": issuer,
            "audiences": audiences,
            "audienceMatchPolicy": "MatchAny",
            "certificateAuthority": ca_pem.decode(),
        },
        "claimValidationRules": [
            {
                "expression": "has(claims.department) && claims.department != ''",
                "message": "the token must name a department",
            },
            {"expression": "claims.exp - claims.iat <= 3600", "message": "tokens may live at most an hour"},
        ],
        "claimMappings": {
            "username": {"claim": "sub", "prefix": PREFIX},
            "groups": {"claim": "groups", "prefix": PREFIX},
            "uid": {"claim": "sub"},
            "extra": [{"key": "kubelab.dev/department", "valueExpression": "claims.department"}],
        },
        "userValidationRules": [
            {"expression": "!('kubelab:root' in user.groups)", "message": "no token makes anyone root"},
        ],
    }


def authentication_configuration(jwt: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "apiserver.config.k8s.io/v1", "kind": "AuthenticationConfiguration", "jwt": jwt}


def webhook_kubeconfig(server: str, ca_pem: bytes, name: str = "webhook") -> dict[str, Any]:
    """What kube-apiserver uses to call a webhook (the cluster is the webhook; no user credentials)."""
    ca = base64.b64encode(ca_pem).decode()
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server, "certificate-authority-data": ca}}],
        "users": [{"name": "kube-apiserver", "user": {}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": "kube-apiserver"}}],
        "current-context": name,
    }
