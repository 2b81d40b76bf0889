"""One HTTPS server for kube-apiserver's callouts of Chapter 7.1 to 7.3: the token issuer's
discovery document and JWKS, the TokenReview webhook (``/authenticate``), the
SubjectAccessReview webhook (``/authorize``) and the admission webhooks (``/admission/mutate``,
``/admission/validate``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from kubelab_apiserver.admission import webhook as admission_webhook
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
    admission_webhook.routes(app)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        return JSONResponse({"ok": True})

    return app
