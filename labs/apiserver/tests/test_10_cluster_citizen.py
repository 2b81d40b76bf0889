"""Checkpoint 10 (book 7.4): the cluster's controllers use the aggregated group like any other: the
namespace controller empties a namespace being deleted, the garbage collector follows owners."""

from __future__ import annotations

import json

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube
from kubelab_labkit.namespaces import MakeNamespace
from kubelab_labkit.waiting import eventually

from .aggregatedlab import book, clear


def test_10_namespace_deletion_and_garbage_collection(
    kubectl: Kubectl, namespace: str, make_namespace: MakeNamespace
) -> None:
    """A Book owned by a ConfigMap is deleted by the garbage collector after the ConfigMap (which watches
    the group through metadata-only lists and watches); deleting a namespace with Books finishes, the
    namespace controller deleting them through the group's deletecollection.

    Hint (7.4): both controllers ask for `application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`
    (kubelab_apiserver/aggregated/negotiation.py, tables.py); `kubectl get ns <name> -o yaml` shows the
    namespace controller's conditions when it is stuck.
    """
    clear(kubectl, namespace)
    owner = json.loads(kubectl.run("-n", namespace, "create", "configmap", "owner", "-o", "json"))
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"]}
    kube.apply(kubectl, book("owned", namespace, ownerReferences=[ref]))
    kubectl.run("-n", namespace, "delete", "configmap", "owner")

    def collected() -> bool:
        names = [o["metadata"]["name"] for o in kubectl.json("-n", namespace, "get", "books")["items"]]
        assert "owned" not in names, f"Books still there: {names}"
        return True

    eventually(collected, timeout=90, what="the garbage collector deleting the Book whose owner went")

    doomed = make_namespace("kubelab-apiserver-lab-doomed")
    for i in range(3):
        kube.apply(kubectl, book(f"doomed-{i}", doomed))
    kubectl.run("delete", "namespace", doomed, "--wait=true", timeout=150)
    assert kubectl.attempt("get", "namespace", doomed).returncode != 0, "the namespace is gone"
