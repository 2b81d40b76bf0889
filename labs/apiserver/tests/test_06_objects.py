"""Checkpoint 6 (book 7.4): objects of the aggregated group through kube-apiserver, as the
aggregator conformance test makes them (create, list, delete, a dynamic client) and as kubectl
users see them (tables, explain, apply)."""

from __future__ import annotations

import json

from kubelab_client.dynamic import DynamicClient
from kubelab_client.kube import Api
from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube
from kubelab_labkit.waiting import eventually

from .aggregatedlab import GROUP, VERSION, book


def test_06_create_list_delete_and_kubectl(kubectl: Kubectl, namespace: str) -> None:
    """Create answers 201 with the right apiVersion, kind and name; the list shows it; delete leaves the
    list empty; the Chapter 2 dynamic client does the same; `kubectl get` prints the server's Table,
    `kubectl explain` reads its OpenAPI v3, `kubectl apply --server-side` twice updates in place.

    Hint (7.4): kubelab_apiserver/aggregated/registry.py (the REST store), tables.py (columns) and
    openapi.py; `kubectl get --raw /apis/books.kubelab.dev/v1alpha1/namespaces/<ns>/books` shows what the
    server answers.
    """
    made = json.loads(kubectl.run("create", "-f", "-", "-o", "json", stdin=json.dumps(book("first", namespace))))
    assert (made["apiVersion"], made["kind"], made["metadata"]["name"]) == (f"{GROUP}/{VERSION}", "Book", "first")
    names = [o["metadata"]["name"] for o in kubectl.json("-n", namespace, "get", "books")["items"]]
    assert names == ["first"]
    kubectl.run("-n", namespace, "delete", "book", "first")
    assert kubectl.json("-n", namespace, "get", "books")["items"] == []

    api = Api.from_config(str(kubectl.kubeconfig))
    books = DynamicClient(api).resource(f"{GROUP}/{VERSION}/books").namespace(namespace)
    books.create(book("dynamic", namespace, "Kubernetes开发指南"))
    listed = books.list()
    assert [o["metadata"]["name"] for o in listed["items"]] == ["dynamic"] and listed["kind"] == "BookList"

    table = kubectl.run("-n", namespace, "get", "books").splitlines()
    assert table[0].split() == ["NAME", "TITLE", "AUTHOR", "CHAPTERS", "PHASE", "AGE"], table
    assert table[1].split()[:2] == ["dynamic", "Kubernetes开发指南"], table
    eventually(lambda: _explained(kubectl), timeout=90, interval=2, what="kube-apiserver's OpenAPI v3 has the group")
    manifest = book("applied", namespace, "Applied", chapters=[{"number": 1, "title": "One"}])
    kubectl.run("apply", "--server-side", "-f", "-", stdin=json.dumps(manifest))
    manifest["spec"]["title"] = "Applied again"
    kubectl.run("apply", "--server-side", "-f", "-", stdin=json.dumps(manifest))
    got = kubectl.json("-n", namespace, "get", "book", "applied")
    assert got["spec"]["title"] == "Applied again" and got["metadata"]["generation"] == 2
    kube.delete(kubectl, got)


def _explained(kubectl: Kubectl) -> bool:
    """kube-apiserver aggregates an APIService's OpenAPI v3 in the background, after it is Available."""
    proc = kubectl.attempt("explain", "books.spec")
    assert proc.returncode == 0, proc.stderr.strip()
    return "chapters" in proc.stdout
