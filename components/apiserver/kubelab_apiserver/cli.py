"""``kubelab-apiserver``: the Chapter 7 components' command line.

``kubelab-apiserver webhooks`` serves what kube-apiserver calls out to in 7.1 and 7.2: the token
issuer's discovery document and JWKS (``--issuer-url``, ``--issuer-key``), the TokenReview webhook
(``/authenticate``, tokens from ``--tokens``) and the SubjectAccessReview webhook (``/authorize``).
``kubelab-apiserver token`` prints a JWT of that issuer.

``kubelab-apiserver aggregated`` serves the ``books.kubelab.dev`` group over HTTPS on
``--secure-port`` with the certificate in ``--tls-cert-file``/``--tls-private-key-file``, storing
objects in ``--storage`` (``etcd://host:port`` or ``sqlite:///path``). It delegates to the cluster
(in-cluster service account, or ``--kubeconfig``): authentication reads the
``extension-apiserver-authentication`` ConfigMap and asks TokenReviews, authorization asks
SubjectAccessReviews, and its own admission refuses objects in namespaces that do not exist.
History is compacted every ``--compaction-interval`` seconds (0: never).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import threading
from pathlib import Path
from typing import Any

from kubelab_kit.entry import entry_point
from kubelab_kit.logs import setup_logging

log = logging.getLogger("kubelab_apiserver")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kubelab-apiserver", description=__doc__.split("\n\n")[0])
    p.add_argument("--log-level", default="info")
    sub = p.add_subparsers(dest="command", required=True)
    agg = sub.add_parser("aggregated", help="serve the books.kubelab.dev group behind the aggregator")
    agg.add_argument("--storage", default="sqlite:///var/lib/kubelab-apiserver/store.db")
    agg.add_argument("--secure-port", type=int, default=8443)
    agg.add_argument("--bind-address", default="0.0.0.0")
    agg.add_argument("--tls-cert-file", type=Path, required=True)
    agg.add_argument("--tls-private-key-file", type=Path, required=True)
    agg.add_argument("--kubeconfig", default=None, help="default: the in-cluster service account")
    agg.add_argument("--compaction-interval", type=float, default=300.0)
    agg.add_argument("--bookmark-interval", type=float, default=60.0)

    hooks = sub.add_parser(
        "webhooks", help="serve the token issuer, the TokenReview and the SubjectAccessReview webhooks"
    )
    hooks.add_argument("--secure-port", type=int, default=8443)
    hooks.add_argument("--bind-address", default="0.0.0.0")
    hooks.add_argument("--tls-cert-file", type=Path, required=True)
    hooks.add_argument("--tls-private-key-file", type=Path, required=True)
    hooks.add_argument("--issuer-url", default="", help="the issuer's https URL (serves its discovery and JWKS)")
    hooks.add_argument("--issuer-key", type=Path, default=None, help="the issuer's RSA key (PEM)")
    hooks.add_argument("--tokens", type=Path, default=None, help="YAML: token -> {username, uid, groups}")
    hooks.add_argument("--protected-namespace", action="append", default=[], help="namespaces nobody may delete")

    token = sub.add_parser("token", help="print a JWT signed by the issuer's key")
    token.add_argument("--issuer-url", required=True)
    token.add_argument("--issuer-key", type=Path, required=True)
    token.add_argument("--subject", required=True)
    token.add_argument("--group", action="append", default=[])
    token.add_argument("--audience", default="kubelab")
    token.add_argument("--department", default="")
    token.add_argument("--ttl", type=float, default=600.0)
    return p


def serve_webhooks(args: argparse.Namespace) -> None:
    import yaml

    from kubelab_apiserver.authn.issuer import Issuer, load_key
    from kubelab_apiserver.authn.tokenreview_webhook import load_table
    from kubelab_apiserver.authz.policy import default_rules
    from kubelab_apiserver.serving import TLSServer
    from kubelab_apiserver.webhooks import create_app

    issuer = Issuer(args.issuer_url, load_key(args.issuer_key.read_bytes())) if args.issuer_key else None
    tokens = load_table(yaml.safe_load(args.tokens.read_text()) or {}) if args.tokens else {}
    rules = default_rules(args.protected_namespace or ["kubelab-protected"])
    server = TLSServer(
        create_app(issuer, tokens, rules),
        args.tls_cert_file,
        args.tls_private_key_file,
        b"",
        host=args.bind_address,
        port=args.secure_port,
    )
    log.info(
        "serving the webhooks on :%d (issuer %s, %d static tokens)",
        args.secure_port,
        args.issuer_url or "-",
        len(tokens),
    )
    asyncio.run(server.serve())


def print_token(args: argparse.Namespace) -> None:
    from kubelab_apiserver.authn.issuer import Issuer, load_key

    issuer = Issuer(args.issuer_url, load_key(args.issuer_key.read_bytes()))
    claims: dict[str, Any] = {"groups": args.group}
    if args.department:
        claims["department"] = args.department
    print(issuer.token(args.subject, audience=args.audience, ttl=args.ttl, **claims))


def serve_aggregated(args: argparse.Namespace) -> None:
    from kubelab_apiserver.aggregated.app import create_app
    from kubelab_apiserver.aggregated.compaction import compact_forever
    from kubelab_apiserver.aggregated.namespaces import NamespaceCache
    from kubelab_apiserver.aggregated.wiring import build
    from kubelab_apiserver.auth.authenticator import Authenticator
    from kubelab_apiserver.auth.authorizer import SubjectAccessReviewer
    from kubelab_apiserver.auth.delegation import DelegationSource
    from kubelab_apiserver.auth.tokenreview import TokenReviewer
    from kubelab_apiserver.serving import TLSServer
    from kubelab_apiserver.storage.backends import open_storage
    from kubelab_client.kube import Api

    api = Api.from_config(args.kubeconfig)
    stop = threading.Event()
    tls: TLSServer | None = None

    def trust(delegation: Any) -> None:
        if tls is not None:
            tls.trust(delegation.ca_bundle)

    source = DelegationSource(api, on_change=trust)
    source.start(stop)
    namespaces = NamespaceCache(api)
    namespaces.start(stop)
    storage = open_storage(args.storage)
    server = build(
        storage,
        Authenticator(lambda: source.current, TokenReviewer(api)),
        SubjectAccessReviewer(api),
        get_namespace=namespaces.get,
        ready=namespaces.not_ready,
    )
    server.bookmark_every = args.bookmark_interval
    tls = TLSServer(
        create_app(server),
        args.tls_cert_file,
        args.tls_private_key_file,
        source.current.ca_bundle,
        host=args.bind_address,
        port=args.secure_port,
    )

    async def main() -> None:
        compactor = (
            asyncio.create_task(compact_forever(storage, args.compaction_interval))
            if args.compaction_interval
            else None
        )
        log.info("serving books.kubelab.dev on :%d, storage %s", args.secure_port, args.storage)
        try:
            await tls.serve()
        finally:
            if compactor is not None:
                compactor.cancel()
            await storage.close()

    try:
        asyncio.run(main())
    finally:
        stop.set()


@entry_point
def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    setup_logging(level_name=args.log_level)
    if args.command == "aggregated":
        serve_aggregated(args)
    elif args.command == "webhooks":
        serve_webhooks(args)
    elif args.command == "token":
        print_token(args)
    return 0
