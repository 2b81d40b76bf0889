"""The extender's HTTP endpoints on FastAPI: ``POST /filter``, ``/prioritize``, ``/bind``
(and ``GET /healthz`` for the kubelet's probes).

Node labels come from the NodeList kube-scheduler sends (``nodeCacheCapable: false``) or, when
it sends only names, from the API (``lookup``). A body that is not the protocol's is a 400 with
a message; a failure inside is answered in the protocol's own ``Error`` field, as kube-scheduler
expects (it then treats the extender's answer as failed, or ignores it when ``ignorable``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from kubelab_client.errors import ClientError
from kubelab_client.kube import Api
from kubelab_client.resources import NODES, PODS
from kubelab_scheduler.extender import policy
from kubelab_scheduler.extender.protocol import (
    ExtenderArgs,
    ExtenderBindingArgs,
    ExtenderBindingResult,
    ExtenderFilterResult,
    HostPriority,
)

log = logging.getLogger(__name__)


def create_app(api: Api | None) -> FastAPI:
    app = FastAPI(title="kubelab-extender", docs_url=None, redoc_url=None)

    def lookup(name: str) -> dict[str, Any] | None:
        if api is None:
            return None
        try:
            return api.get(NODES, name)
        except ClientError:
            return None

    def node_of(args: ExtenderArgs) -> Callable[[str], dict[str, Any] | None]:
        return lambda name: args.node(name) if args.nodes is not None else lookup(name)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/filter", response_model=ExtenderFilterResult, response_model_by_alias=True)
    def filter_nodes(args: ExtenderArgs) -> ExtenderFilterResult:
        node = node_of(args)
        kept, failed = [], {}
        for name in args.candidates():
            why = policy.rejection(node(name))
            if why is None:
                kept.append(name)
            else:
                failed[name] = why
        if args.nodes is not None:
            items = [n for n in args.nodes.get("items") or [] if n["metadata"]["name"] in kept]
            return ExtenderFilterResult(nodes={**args.nodes, "items": items}, failed_nodes=failed)
        return ExtenderFilterResult(node_names=kept, failed_nodes=failed)

    @app.post("/prioritize", response_model=list[HostPriority], response_model_by_alias=True)
    def prioritize(args: ExtenderArgs) -> list[HostPriority]:
        node = node_of(args)
        return [HostPriority(host=name, score=policy.priority(node(name))) for name in args.candidates()]

    @app.post("/bind", response_model=ExtenderBindingResult, response_model_by_alias=True)
    def bind(args: ExtenderBindingArgs) -> ExtenderBindingResult:
        if api is None:
            return ExtenderBindingResult(error="this extender has no API client: it cannot bind")
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {
                "name": args.pod_name,
                "namespace": args.pod_namespace,
                "uid": args.pod_uid,
                "annotations": {policy.BOUND_BY: policy.NAME},
            },
            "target": {"apiVersion": "v1", "kind": "Node", "name": args.node},
        }
        path = PODS.object_path(args.pod_name, args.pod_namespace) + "/binding"
        try:
            api.request("POST", path, body=binding)
        except ClientError as exc:
            return ExtenderBindingResult(error=f"binding {args.pod_namespace}/{args.pod_name} to {args.node}: {exc}")
        log.info("bound %s/%s to %s", args.pod_namespace, args.pod_name, args.node)
        return ExtenderBindingResult()

    return app
