"""Checkpoint 13 (DRA: a restarted driver): no prepared claim is lost, and the new driver unprepares it."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube
from kubelab_labkit.waiting import eventually

from .dralab import (
    SYSTEM_NS,
    cdi_claims,
    claim_pod,
    devices_seen,
    driver_pod,
    node_checkpoint,
    pod_claim_uid,
    run_claim_pod,
    template,
)


def test_13_restart_keeps_prepared_claims(kubectl: Kubectl, namespace: str, dra: str, workers: list[str]) -> None:
    """With `kept` running, the driver's pod on its node is deleted; a pod created meanwhile starts once
    the new driver is there; `kept`'s claim is still in the checkpoint and its CDI spec on the node;
    deleting `kept`, the new driver unprepares its claim.

    Hint (Chapter 9, DRA): the checkpoint file is on the node (/var/lib/kubelab-dra), so a new
    process reads what the old one prepared; write it atomically before answering.
    """
    node = workers[1]
    kube.apply(kubectl, template("one-accel", namespace))  # checkpoint 9's, for a run of this one alone
    run_claim_pod(kubectl, claim_pod("kept", namespace, dra, template="one-accel", node=node))
    before = devices_seen(kubectl, namespace, "kept")
    _, uid = pod_claim_uid(kubectl, namespace, "kept")
    old = driver_pod(kubectl, node)
    kubectl.run("-n", SYSTEM_NS, "delete", "pod", old, "--wait=false")
    kube.apply(kubectl, claim_pod("meanwhile", namespace, dra, template="one-accel", node=node))

    def replaced() -> bool:
        assert driver_pod(kubectl, node) != old, "the old driver pod is still the running one"
        return True

    eventually(replaced, timeout=120, interval=1, what="a new driver pod")
    run_claim_pod(kubectl, claim_pod("meanwhile", namespace, dra, template="one-accel", node=node), timeout=180)
    assert devices_seen(kubectl, namespace, "kept") == before
    assert uid in node_checkpoint(node) and uid in cdi_claims(node), f"{uid} lost by the restart on {node}"
    assert set(devices_seen(kubectl, namespace, "meanwhile")).isdisjoint(before)
    kubectl.run("-n", namespace, "delete", "pods", "kept", "meanwhile", "--wait=true", timeout=120)

    def unprepared() -> bool:
        assert uid not in node_checkpoint(node) and uid not in cdi_claims(node), f"{uid} still prepared on {node}"
        return True

    eventually(unprepared, timeout=90, interval=1, what="kept's claim unprepared by the new driver")
