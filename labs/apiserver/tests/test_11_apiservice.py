"""Checkpoint 11 (book 7.4): the APIService object itself, as the aggregator conformance test ends:
read its status, patch it, label it, update its status, delete the collection by label. The server
is registered again afterwards."""

from __future__ import annotations

import json

from kubelab_cluster.kind.kubectl import Kubectl

from .aggregatedlab import APISERVICE, raw, wait_available

LABEL = "kubelab.dev/apiserver-lab"


def test_11_apiservice_lifecycle(kubectl: Kubectl, aggregated: bytes) -> None:
    """Patching versionPriority makes a new resourceVersion; a label selects it; a status update is
    kept; deleting the collection by label unregisters the group (discovery no longer lists it);
    applying the APIService again brings it back Available.

    Hint (7.4): `kubectl get apiservice v1alpha1.books.kubelab.dev -o yaml`; the lab re-applies
    components/apiserver/deploy/aggregated.yaml's APIService with the same caBundle.
    """
    before = kubectl.json("get", "apiservice", APISERVICE)
    kubectl.run("patch", "apiservice", APISERVICE, "--type=merge", "-p", '{"spec":{"versionPriority":400}}')
    patched = kubectl.json("get", "apiservice", APISERVICE)
    assert patched["spec"]["versionPriority"] == 400
    assert int(patched["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"])
    kubectl.run("label", "apiservice", APISERVICE, f"{LABEL}=e2e")
    listed = kubectl.json("get", "apiservices", "-l", f"{LABEL}=e2e")["items"]
    assert [a["metadata"]["name"] for a in listed] == [APISERVICE]
    status = raw(kubectl, f"/apis/apiregistration.k8s.io/v1/apiservices/{APISERVICE}/status")
    assert any(c["type"] == "Available" for c in status["status"]["conditions"])
    condition = {
        "type": "StatusUpdated",
        "status": "True",
        "reason": "E2E",
        "message": "Set from the lab",
        "lastTransitionTime": "2026-01-01T00:00:00Z",
    }
    op = [{"op": "add", "path": "/status/conditions/-", "value": condition}]
    kubectl.run("patch", "apiservice", APISERVICE, "--subresource=status", "--type=json", "-p", json.dumps(op))
    kept = kubectl.json("get", "apiservice", APISERVICE)["status"]["conditions"]
    assert any(c["type"] == "StatusUpdated" and c["message"] == "Set from the lab" for c in kept), kept

    kubectl.run("delete", "apiservices", "-l", f"{LABEL}=e2e", "--wait=true")
    assert kubectl.json("get", "apiservices", "-l", f"{LABEL}=e2e")["items"] == []
    assert "books.kubelab.dev" not in {g["name"] for g in raw(kubectl, "/apis")["groups"]}

    apiservice = before
    apiservice["metadata"] = {"name": APISERVICE}
    apiservice.pop("status", None)
    kubectl.run("apply", "-f", "-", stdin=json.dumps(apiservice))
    wait_available(kubectl)
    assert "books.kubelab.dev" in {g["name"] for g in raw(kubectl, "/apis")["groups"]}
