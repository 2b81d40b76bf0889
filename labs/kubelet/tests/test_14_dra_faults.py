"""Checkpoint 14 (DRA: faults): a claim no device can satisfy, a prepare for a claim that is not the
one the kubelet means, a request without a UID, and the driver's socket vanishing."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube
from kubelab_labkit.nodes import node_run
from kubelab_labkit.waiting import eventually

from .dralab import (
    DRIVER,
    SOCKET,
    cdi_claims,
    claim,
    claim_pod,
    driver_cli,
    driver_log,
    node_checkpoint,
    run_claim_pod,
    template,
)


def test_14_faults(kubectl: Kubectl, namespace: str, dra: str, workers: list[str]) -> None:
    """A claim for `model == "lab-huge"` leaves its pod Pending with the scheduler's reason and nothing
    prepared; `kubelab-dra call prepare` with a stale UID is answered with the claim's error and prepares
    nothing, one without a UID with INVALID_ARGUMENT; a deleted DRA socket is served again and pods get
    devices again.

    Hint (Chapter 9, DRA): check the claim's UID against the kubelet's before preparing; answer errors
    per claim; check for your sockets as the device plugin does.
    """
    kube.apply(kubectl, template("one-accel", namespace))  # checkpoint 9's, for a run of this one alone
    kube.apply(kubectl, claim("huge", namespace, [f'device.attributes["{DRIVER}"].model == "lab-huge"']))
    kube.apply(kubectl, claim_pod("huge", namespace, dra, claim="huge"))

    def unschedulable() -> str:
        events = kube.events(kubectl, namespace, "huge")
        assert "FailedScheduling" in events and "cannot allocate all claims" in events, events
        return events

    eventually(unschedulable, timeout=90, interval=2, what="the scheduler's reason for huge")
    assert kubectl.json("-n", namespace, "get", "pod", "huge")["status"]["phase"] == "Pending"
    kubectl.run("-n", namespace, "delete", "pod", "huge", "--wait=true")

    node = workers[0]
    uid = kubectl.json("-n", namespace, "get", "resourceclaim", "huge")["metadata"]["uid"]
    stale = driver_cli(kubectl, node, "call", "prepare", namespace, "huge", "00000000-0000-0000-0000-000000000000")
    assert stale.returncode == 0, stale.stdout + stale.stderr
    assert f"has UID {uid}, the kubelet asked for 00000000-0000-0000-0000-000000000000" in stale.stdout, stale.stdout
    missing = driver_cli(kubectl, node, "call", "prepare", namespace, "huge", "")
    assert missing.returncode == 1 and missing.stdout.startswith("INVALID_ARGUMENT: "), missing.stdout
    assert not node_checkpoint(node) and not cdi_claims(node)
    kubectl.run("-n", namespace, "delete", "resourceclaim", "huge", "--wait=true")

    before = driver_log(kubectl, node).count("vanished")
    node_run(node, "rm", "-f", SOCKET)

    def served_again() -> bool:
        assert driver_log(kubectl, node).count("vanished") > before, "the driver did not notice its socket going"
        node_run(node, "test", "-S", SOCKET)
        return True

    eventually(served_again, timeout=60, interval=1, what="the DRA socket served again")
    run_claim_pod(kubectl, claim_pod("after-socket", namespace, dra, template="one-accel", node=node), timeout=180)
    kubectl.run("-n", namespace, "delete", "pod", "after-socket", "--wait=true")
