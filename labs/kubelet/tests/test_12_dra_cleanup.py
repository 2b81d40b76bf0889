"""Checkpoint 12 (DRA: unprepare): when the pods go, their claims' CDI specs and checkpoint entries go."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.waiting import eventually

from .dralab import cdi_claims, node_checkpoint


def test_12_cleanup_after_the_pods(kubectl: Kubectl, namespace: str, dra: str, workers: list[str]) -> None:
    """Deleting checkpoints 9 to 11's pods: the templates' claims are deleted, and no worker keeps a CDI
    spec or a checkpoint entry of any claim.

    Hint (Chapter 9, DRA): NodeUnprepareResources removes the claim's CDI spec, then its checkpoint
    entry; a claim it does not know is already unprepared (the kubelet may ask twice).
    """
    kubectl.run("-n", namespace, "delete", "pods", "tpl-a", "tpl-b", "shared-a", "shared-b", "large",
                "--ignore-not-found", "--wait=true", timeout=120)  # fmt: skip
    kubectl.run("-n", namespace, "delete", "resourceclaim", "shared", "large", "--ignore-not-found", "--wait=true")

    def clean() -> bool:
        left = kubectl.json("-n", namespace, "get", "resourceclaims")["items"]
        assert not left, f"claims left: {[c['metadata']['name'] for c in left]}"
        for node in workers:
            assert not cdi_claims(node), f"CDI specs left on {node}: {cdi_claims(node)}"
            assert not node_checkpoint(node), f"checkpoint entries left on {node}: {node_checkpoint(node)}"
        return True

    eventually(clean, timeout=90, interval=1, what="claims unprepared on every worker")
