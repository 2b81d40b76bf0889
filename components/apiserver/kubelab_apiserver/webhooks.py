"""One HTTPS server for kube-apiserver's callouts of Chapter 7.1 and 7.2: the token issuer's
discovery document and JWKS, the TokenReview webhook (``/authenticate``) and the
SubjectAccessReview webhook (``/authorize``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from kubelab_apiserver.authn import tokenreview_webhook
from kubelab_apiserver.authn.issuer import DISCOVERY_PATH, JWKS_PATH, Issuer
from kubelab_apiserver.authn.tokenreview_webhook import Account
from kubelab_apiserver.authz import webhook as authz_webhook
from kubelab_apiserver.authz.policy import Rule


def create_app(issuer: Issuer | None, tokens: Mapping[str, Account], rules: Sequence[Rule]) -> FastAPI:
    app = FastAPI(title="kubelab kube-apiserver webhooks", docs_url=None, redoc_url=None, openapi_url=None)
    if issuer is not None:

        @app.get(DISCOVERY_PATH)
        async def discovery() -> JSONResponse:
            return JSONResponse(issuer.discovery())

        @app.get(JWKS_PATH)
        async def jwks() -> JSONResponse:
            return JSONResponse(issuer.jwks())

    tokenreview_webhook.routes(app, tokens)
    authz_webhook.routes(app, rules)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        return JSONResponse({"ok": True})

    return app
