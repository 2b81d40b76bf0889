"""Checkpoint 9 (DRA: prepare, exercise 9.3): a ResourceClaimTemplate gives each pod its own claim
and distinct devices, visible in its environment through the driver's CDI specs."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube

from .dralab import (
    allocated,
    cdi_claims,
    claim_pod,
    devices_seen,
    node_checkpoint,
    pod_claim_uid,
    run_claim_pod,
    template,
)


def test_09_template_claims_get_distinct_devices(
    kubectl: Kubectl, namespace: str, dra: str, workers: list[str]
) -> None:
    """Two pods on one worker from the template `one-accel`: each Running with one device in
    `KUBELAB_DRA_*`, not the same one, each the device the scheduler allocated to its claim; the node
    has a CDI spec and a checkpoint entry for each claim.

    Hint (Chapter 9, exercise 9.3): kubelab_dra/allocation.py `ours` reads the claim's
    `status.allocation.devices.results` (this driver, this node's pool); `kubectl -n kubelab-kubelet-lab
    describe pod tpl-a` shows the kubelet's prepare error; the driver's log has each claim.
    """
    node = workers[0]
    kube.apply(kubectl, template("one-accel", namespace))
    seen: dict[str, str] = {}
    for name in ("tpl-a", "tpl-b"):
        run_claim_pod(kubectl, claim_pod(name, namespace, dra, template="one-accel", node=node))
        devices = devices_seen(kubectl, namespace, name)
        assert len(devices) == 1, f"{name} sees {devices}"
        claim_name, uid = pod_claim_uid(kubectl, namespace, name)
        assert list(devices) == allocated(kubectl, namespace, claim_name), (devices, claim_name)
        assert uid in cdi_claims(node), f"no CDI spec for {claim_name} ({uid}) on {node}"
        entry = node_checkpoint(node).get(uid)
        assert entry and entry["name"] == claim_name, f"{node}'s checkpoint has no entry for {claim_name}: {entry}"
        seen[name] = next(iter(devices))
    assert seen["tpl-a"] != seen["tpl-b"], seen
