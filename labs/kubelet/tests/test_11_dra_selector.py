"""Checkpoint 11 (DRA: CEL selectors): a claim selecting by attribute and capacity gets such a device."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube

from .dralab import BIG_MEMORY, LARGE, allocated, claim, claim_pod, devices_seen, run_claim_pod


def test_11_claim_selects_by_attribute(kubectl: Kubectl, namespace: str, dra: str) -> None:
    """The claim `large` asks for `model == "lab-large"` with at least 16Gi of memory: the pod sees a
    lab-large device (accel-1 or accel-3 of some worker).

    Hint (Chapter 9, DRA): attributes and capacity come from the slice (`kubectl get resourceslices -o
    yaml`); the scheduler evaluates the class's and the claim's CEL selectors against them.
    """
    kube.apply(kubectl, claim("large", namespace, [LARGE, BIG_MEMORY]))
    run_claim_pod(kubectl, claim_pod("large", namespace, dra, claim="large"))
    devices = devices_seen(kubectl, namespace, "large")
    assert list(devices) == allocated(kubectl, namespace, "large"), devices
    (value,) = devices.values()
    assert "model=lab-large" in value and "memory=16Gi" in value, value
