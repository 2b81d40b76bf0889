"""Checkpoint 2 (book 7.1): kube-apiserver asks the TokenReview webhook about the bearer tokens no
other authenticator knows."""

from __future__ import annotations

from .webhooklab import Webhooks


def test_02_the_token_webhook_names_the_user(webhooks: Webhooks) -> None:
    """A token of the webhook's table is its user (`kubelab-webhook:bob`, uid, groups); a token nobody
    knows is 401. kube-apiserver calls https://10.96.77.77/authenticate (cluster/kind.yaml,
    --authentication-token-webhook-config-file).

    Hint (7.1): kubelab_apiserver/authn/tokenreview_webhook.py: status.authenticated and status.user, and
    for an unknown token authenticated: false with an error (never an HTTP error).
    """
    info = webhooks.whoami("kubelab-static-token-bob")
    assert info["username"] == "kubelab-webhook:bob" and info.get("uid") == "bob-1", info
    assert "kubelab:webhook-users" in info["groups"], info
    code, body = webhooks.call("a-token-nobody-issued")
    assert code == 401, (code, body)
