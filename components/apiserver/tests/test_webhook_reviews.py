"""The webhooks' answers without kube-apiserver: bad bodies are 400, unknown tokens are not
authenticated (never an error), audiences are honoured, the policy's three verdicts; and the CLI's
token is one kube-apiserver would accept (issuer, audience, claims, key)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient

from kubelab_apiserver.authn.issuer import Issuer, key_pem, new_key
from kubelab_apiserver.authn.tokenreview_webhook import Account
from kubelab_apiserver.authz.policy import default_rules
from kubelab_apiserver.webhooks import create_app

TABLE = {"good": Account("bob", groups=("g",), audiences=("kubelab",))}


@pytest.fixture(scope="module")
def app() -> TestClient:
    return TestClient(create_app(Issuer("https://issuer.example", new_key()), TABLE, default_rules(["keep"])))


def token_review(token: str, audiences: list[str] | None = None) -> dict[str, object]:
    spec: dict[str, object] = {"token": token}
    if audiences:
        spec["audiences"] = audiences
    return {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": spec}


def sar(user: str, groups: list[str], **attributes: str) -> dict[str, object]:
    return {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {"user": user, "groups": groups, "resourceAttributes": attributes},
    }


def test_token_reviews(app: TestClient) -> None:
    good = app.post("/authenticate", json=token_review("good", ["kubelab"])).json()["status"]
    assert good == {"authenticated": True, "user": {"username": "bob", "groups": ["g"]}, "audiences": ["kubelab"]}
    unknown = app.post("/authenticate", json=token_review("nope")).json()["status"]
    assert unknown["authenticated"] is False and unknown["error"] == "unknown token"
    elsewhere = app.post("/authenticate", json=token_review("good", ["other"])).json()["status"]
    assert elsewhere["authenticated"] is False
    bad = app.post("/authenticate", json={"kind": "Pod"})
    assert bad.status_code == 400 and bad.json()["reason"] == "BadRequest"
    assert app.post("/authenticate", json=token_review("")).status_code == 400


def test_subject_access_reviews(app: TestClient) -> None:
    denied = app.post("/authorize", json=sar("x", [], verb="delete", resource="namespaces", name="keep"))
    assert denied.json()["status"]["denied"] is True and "protected" in denied.json()["status"]["reason"]
    allowed = app.post("/authorize", json=sar("a", ["kubelab:auditors"], verb="list", resource="pods"))
    assert allowed.json()["status"]["allowed"] is True
    secrets = app.post("/authorize", json=sar("a", ["kubelab:auditors"], verb="list", resource="secrets"))
    assert secrets.json()["status"] == {"allowed": False}, "no opinion: RBAC decides"
    assert (
        app.post(
            "/authorize", json={"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": {}}
        ).status_code
        == 400
    )


def test_issuer_documents(app: TestClient) -> None:
    discovery = app.get("/.well-known/openid-configuration").json()
    assert discovery["issuer"] == "https://issuer.example"
    assert discovery["jwks_uri"] == "https://issuer.example/openid/v1/jwks"
    (key,) = app.get("/openid/v1/jwks").json()["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["kid"]


def test_the_cli_prints_a_verifiable_token(tmp_path: Path) -> None:
    key = new_key()
    (tmp_path / "key.pem").write_bytes(key_pem(key))
    binary = Path(sys.executable).parent / "kubelab-apiserver"
    out = subprocess.run(
        [
            str(binary),
            "token",
            "--issuer-url=https://issuer.example",
            f"--issuer-key={tmp_path / 'key.pem'}",
            "--subject=alice",
            "--group=dev",
            "--department=books",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    claims = jwt.decode(
        out.stdout.strip(), key.public_key(), algorithms=["RS256"], audience="kubelab", issuer="https://issuer.example"
    )
    assert (claims["sub"], claims["groups"], claims["department"]) == ("alice", ["dev"], "books")
