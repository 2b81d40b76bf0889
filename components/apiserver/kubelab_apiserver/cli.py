"""``kubelab-apiserver``: the Chapter 7 components' command line.

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
    return p


def serve_aggregated(args: argparse.Namespace) -> None:
    from kubelab_apiserver.aggregated.app import create_app
    from kubelab_apiserver.aggregated.compaction import compact_forever
    from kubelab_apiserver.aggregated.namespaces import NamespaceCache
    from kubelab_apiserver.aggregated.serving import TLSServer
    from kubelab_apiserver.aggregated.wiring import build
    from kubelab_apiserver.auth.authenticator import Authenticator
    from kubelab_apiserver.auth.authorizer import SubjectAccessReviewer
    from kubelab_apiserver.auth.delegation import DelegationSource
    from kubelab_apiserver.auth.tokenreview import TokenReviewer
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
    return 0
