"""Checkpoint 1 (book 7.1): kube-apiserver authenticates the issuer's JWTs through its
AuthenticationConfiguration: claim mappings, and CEL rules that refuse what they must."""

from __future__ import annotations

import time

import pytest

from kubelab_apiserver.authn.issuer import Issuer, new_key

from .webhooklab import Webhooks


def test_01_a_jwt_acts_as_the_mapped_user(webhooks: Webhooks) -> None:
    """A token of the issuer (JWKS at https://10.96.77.77/openid/v1/jwks) is the user `kubelab:<sub>` in the
    groups `kubelab:<group>` with the department as an extra (`kubectl auth whoami`'s SelfSubjectReview).

    Hint (7.1): kubelab_apiserver/authn/configuration.py (jwt_authenticator: issuer, audiences, claimMappings)
    and authn/issuer.py (the iss, aud, sub claims and the kid of the JWKS).
    """
    info = webhooks.whoami(webhooks.jwt("alice", groups=["dev", "writers"]))
    assert info["username"] == "kubelab:alice" and info["uid"] == "alice", info
    assert {"kubelab:dev", "kubelab:writers", "system:authenticated"} <= set(info["groups"]), info
    assert info["extra"] == {"kubelab.dev/department": ["books"]}, info


@pytest.mark.parametrize(
    "why, overrides",
    [
        ("expired", {"issued_at": time.time() - 7200}),
        ("another issuer", {"issuer": "https://issuer.elsewhere.example"}),
        ("another audience", {"audience": "someone-else"}),
        ("no department (claim validation rule)", {"department": ""}),
        ("a lifetime over an hour (claim validation rule)", {"ttl": 7200}),
        ("the root group (user validation rule)", {"groups": ["root"]}),
    ],
)
def test_01_bad_tokens_are_401(webhooks: Webhooks, why: str, overrides: dict[str, object]) -> None:
    """Hint (7.1): each of these must fail: kube-apiserver checks exp, iss and aud itself, the CEL
    claimValidationRules and userValidationRules are kubelab_apiserver/authn/configuration.py's."""
    code, body = webhooks.call(webhooks.jwt(**overrides))
    assert code == 401, f"{why}: {code} {body}"


def test_01_a_forged_token_is_401(webhooks: Webhooks) -> None:
    """Hint (7.1): signatures are checked against the issuer's JWKS, not the token's own claims."""
    forger = Issuer(webhooks.issuer.url, new_key())
    code, _ = webhooks.call(forger.token("alice", audience="kubelab", department="books", groups=["dev"]))
    assert code == 401
