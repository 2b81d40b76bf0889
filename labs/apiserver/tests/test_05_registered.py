"""Checkpoint 5 (book 7.4): the aggregated server is registered and kube-apiserver routes to it
(upstream's aggregator conformance test, first steps)."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl

from .aggregatedlab import APISERVICE, GROUP, GV, NS, SERVICE, available, raw


def test_05_apiservice_available_and_discovery(kubectl: Kubectl, aggregated: bytes) -> None:
    """The Deployment is Ready behind an HTTPS readiness probe; the APIService (caBundle,
    groupPriorityMinimum 2000, versionPriority 200) is Available with "all checks passed"; the group's
    discovery comes from the aggregated server, per version and aggregated into kube-apiserver's /apis.

    Hint (7.4): the aggregator calls GET /apis/books.kubelab.dev/v1alpha1 on the Service with its
    front-proxy certificate; the APIService's condition message says what it got
    (`kubectl get apiservice v1alpha1.books.kubelab.dev -o yaml`). Discovery documents:
    kubelab_apiserver/aggregated/discovery.py.
    """
    apiservice = kubectl.json("get", "apiservice", APISERVICE)
    spec = apiservice["spec"]
    assert spec["service"] == {"namespace": NS, "name": SERVICE, "port": 443}
    assert (spec["groupPriorityMinimum"], spec["versionPriority"]) == (2000, 200) and spec["caBundle"]
    condition = available(kubectl)
    assert condition["status"] == "True" and condition["message"] == "all checks passed", condition
    resources = {r["name"]: r for r in raw(kubectl, GV)["resources"]}
    assert {"books", "books/status", "libraries", "libraries/status"} <= set(resources), resources
    assert resources["books"]["namespaced"] and not resources["libraries"]["namespaced"]
    groups = {g["name"] for g in raw(kubectl, "/apis")["groups"]}
    assert GROUP in groups
    listed = kubectl.run("api-resources", f"--api-group={GROUP}", "-o", "name").split()
    assert sorted(listed) == [f"books.{GROUP}", f"libraries.{GROUP}"], listed
