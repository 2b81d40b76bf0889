"""Checkpoint 10 (DRA: shared claims): one ResourceClaim used by two pods; both see the same device."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube

from .dralab import claim, claim_pod, devices_seen, node_checkpoint, run_claim_pod


def test_10_one_claim_two_pods(kubectl: Kubectl, namespace: str, dra: str) -> None:
    """`shared` is allocated once; the scheduler puts the second pod on the claim's node; both pods see
    its device, and the node prepared it once (one checkpoint entry, reserved for both pods).

    Hint (Chapter 9, DRA): a claim is prepared per node, not per pod: NodePrepareResources for a claim
    already prepared answers what it answered before (the checkpoint).
    """
    kube.apply(kubectl, claim("shared", namespace))
    first = run_claim_pod(kubectl, claim_pod("shared-a", namespace, dra, claim="shared"))
    second = run_claim_pod(kubectl, claim_pod("shared-b", namespace, dra, claim="shared"))
    node = first["spec"]["nodeName"]
    assert second["spec"]["nodeName"] == node
    a, b = devices_seen(kubectl, namespace, "shared-a"), devices_seen(kubectl, namespace, "shared-b")
    assert a == b and len(a) == 1, (a, b)
    obj = kubectl.json("-n", namespace, "get", "resourceclaim", "shared")
    assert sorted(r["name"] for r in obj["status"]["reservedFor"]) == ["shared-a", "shared-b"]
    assert [e["name"] for e in node_checkpoint(node).values()].count("shared") == 1
