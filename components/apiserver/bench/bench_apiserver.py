"""Benchmark: the aggregated API server beside the same resource as a CRD, and what kube-apiserver's
webhook callouts (7.1, 7.2) add to a request, in one run on the lab cluster.

Deploys what the lab deploys (the aggregated server with its etcd, registered by an APIService)
and a CRD of the same Book (its schema generated from the same pydantic types by the operator's
CRD generator), then, in a scratch namespace deleted at the end:

* ``--requests`` creates, the same number of gets, and ``--lists`` lists of all of them, one
  after another over one kept-alive connection, through kube-apiserver: to the aggregated server
  (kube-apiserver proxies each request to it, which asks its own etcd) and to the CRD (served by
  kube-apiserver from the cluster's etcd);
* with the lab's webhooks deployed and kube-apiserver's authentication and authorization
  configurations pointing at them (the lab's own, put back at the end), the same GET as:
  the admin (a client certificate; the webhooks' match conditions leave it to RBAC), a JWT of the
  issuer (verified in kube-apiserver, no callout) of the auditors' group (the authorization
  webhook allows; kube-apiserver caches the answer 10 s), the same JWT asking for a different
  object each time (every request a cache miss: one SubjectAccessReview each), and a token only
  the TokenReview webhook knows (authentication cached 10 s).

    uv run nox -s bench-apiserver [-- --requests 200 --lists 20]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from kubelab_apiserver.aggregated.books import BookSpec, BookStatus
from kubelab_client.errors import ApiError
from kubelab_client.kube import Api
from kubelab_cluster.images.lab import build_lab_image
from kubelab_cluster.kind.cluster import Cluster, kubeconfig_path
from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_cluster.pins import pins, repo_root
from kubelab_cluster.progress import step
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.build import build
from kubelab_kit.stats import summary
from kubelab_labkit import images, kube
from kubelab_operator.crdgen.schema import model_schema

sys.path.insert(0, str(repo_root()))
from labs.apiserver.tests import aggregatedlab, webhooklab  # the lab's own deployment

console = Console(width=120)
NS = "kubelab-bench-apiserver"
CRD_GROUP = "bench.kubelab.dev"
Timed = Callable[[int], Any]


def book_crd() -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": {"spec": model_schema(BookSpec), "status": model_schema(BookStatus)},
    }
    version = {
        "name": "v1alpha1",
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": schema},
        "subresources": {"status": {}},
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"books.{CRD_GROUP}"},
        "spec": {
            "group": CRD_GROUP,
            "scope": "Namespaced",
            "names": {"plural": "books", "singular": "book", "kind": "Book", "shortNames": ["bbk"]},
            "versions": [version],
        },
    }


def book(group: str, i: int) -> dict[str, Any]:
    spec = {"title": f"Book {i}", "author": "bench", "chapters": [{"number": 1, "title": "One"}]}
    return {"apiVersion": f"{group}/v1alpha1", "kind": "Book", "metadata": {"name": f"book-{i}"}, "spec": spec}


def timed(count: int, call: Timed) -> list[float]:
    """Seconds each of ``call(0) … call(count - 1)`` took, one after another."""
    out = []
    for i in range(count):
        started = time.perf_counter()
        call(i)
        out.append(time.perf_counter() - started)
    return out


def crud(api: Api, group: str, requests: int, lists: int) -> dict[str, list[float]]:
    collection = f"/apis/{group}/v1alpha1/namespaces/{NS}/books"
    return {
        "create": timed(requests, lambda i: api.request("POST", collection, body=book(group, i))),
        "get": timed(requests, lambda i: api.request("GET", f"{collection}/book-{i}")),
        f"list ({requests})": timed(lists, lambda _i: api.request("GET", collection)),
    }


def _get_or_404(api: Api, path: str) -> None:
    try:
        api.request("GET", path)
    except ApiError as exc:
        if exc.status != 404:
            raise


def callouts(api: Api, hooks: webhooklab.Webhooks, requests: int) -> dict[str, list[float]]:
    path = f"/api/v1/namespaces/{NS}/configmaps/kube-root-ca.crt"
    jwt = hooks.jwt("audrey", groups=["auditors"])
    as_jwt = Api.for_host(hooks.server, token=jwt, ca_file=hooks.ca_file)
    as_static = Api.for_host(hooks.server, token="kubelab-static-token-eve", ca_file=hooks.ca_file)
    for warm in (api, as_jwt, as_static):
        warm.request("GET", path)  # a connection, and the cached answers, in place
    return {
        "admin (client certificate; RBAC)": timed(requests, lambda _i: api.request("GET", path)),
        "JWT; authorization webhook, cached": timed(requests, lambda _i: as_jwt.request("GET", path)),
        "JWT; authorization webhook, each a miss": timed(
            requests, lambda i: _get_or_404(as_jwt, f"/api/v1/namespaces/{NS}/configmaps/bench-miss-{i}")
        ),
        "token webhook, cached; authorization webhook, cached": timed(
            requests, lambda _i: as_static.request("GET", path)
        ),
    }


def table(title: str, figures: dict[str, dict[str, list[float]]]) -> Table:
    out = Table(title=title)
    for column in ("served by", "request", "n", "p50 ms", "p99 ms", "max ms"):
        out.add_column(column, justify="left" if column in ("served by", "request") else "right")
    for who, rows in figures.items():
        for request, seconds in rows.items():
            s = summary(seconds, 1e3)
            out.add_row(who, request, str(len(seconds)), f"{s['p50']:.1f}", f"{s['p99']:.1f}", f"{s['max']:.1f}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="creates and gets per resource, requests per caller")
    parser.add_argument("--lists", type=int, default=20, help="lists of all the objects per resource")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    kubeconfig = kubeconfig_path()
    kubectl = Kubectl(build(BY_NAME["kubectl"], pins()).binaries["kubectl"], kubeconfig)
    with step("lab image on the nodes"):
        image = images.deliver(build_lab_image(), Cluster.for_pins(pins()).node_containers())
    crd = book_crd()
    hooks: webhooklab.Webhooks | None = None
    api = Api.from_config(str(kubeconfig))
    try:
        with step("aggregated server deployed and Available (the lab's manifests)"):
            aggregatedlab.deploy(kubectl, image)
        with step("Books as a CRD, Established"):
            kube.apply(kubectl, crd)
            kube.wait_for(kubectl, f"crd/{crd['metadata']['name']}", "condition=Established")
        kubectl.run("create", "namespace", NS)
        kube.wait_for(kubectl, f"namespace/{NS}", "jsonpath={.status.phase}=Active")
        resources: dict[str, dict[str, list[float]]] = {}
        with step(f"{args.requests} creates and gets, {args.lists} lists, per resource"):
            resources["aggregated server (its etcd)"] = crud(api, aggregatedlab.GROUP, args.requests, args.lists)
            resources["CRD (kube-apiserver)"] = crud(api, CRD_GROUP, args.requests, args.lists)
        with step("webhooks deployed, kube-apiserver on the lab's configurations") as s:
            hooks = webhooklab.deploy(kubectl, image)
            s.note = f"configurations reloaded in {hooks.reload_seconds:.1f} s"
        with step(f"{args.requests} GETs per caller"):
            auth = {"kube-apiserver": callouts(api, hooks, args.requests)}
    finally:
        with step("cleaned up: configurations back, webhooks, server, CRD and namespace gone"):
            webhooklab.uninstall(kubectl, hooks)
            kubectl.run("delete", "namespace", NS, "--ignore-not-found", "--wait=true", timeout=300, check=False)
            kube.delete(kubectl, crd)
            aggregatedlab.uninstall(kubectl)
    console.print(table("Books through kube-apiserver: the aggregated server beside a CRD", resources))
    console.print(table("One GET: what the webhook callouts add", auth))
    if args.json:
        doc = {
            k: {who: {r: summary(v, 1e3) for r, v in rows.items()} for who, rows in f.items()}
            for k, f in (("resources", resources), ("callouts", auth))
        }
        with open(args.json, "w") as fh:
            json.dump(doc, fh, indent=2)


if __name__ == "__main__":
    main()
