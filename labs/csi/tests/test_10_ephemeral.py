"""Checkpoint 10 (book 6.4): ephemeral volumes, generic (a claim per pod) and CSI inline, go with their pod."""

from __future__ import annotations

from typing import Any

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube, pods
from kubelab_labkit.nodes import node_sh
from kubelab_labkit.waiting import eventually

from .csilab import STORAGE_CLASS, exec_sh, pod_node, wait_gone


def ephemeral_pod(name: str, namespace: str, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "terminationGracePeriodSeconds": 0,
            "containers": [{
                "name": "main", "image": image, "imagePullPolicy": "IfNotPresent", "command": ["sleep", "infinity"],
                "volumeMounts": [
                    {"name": "generic", "mountPath": "/generic"}, {"name": "inline", "mountPath": "/inline"},
                ],
            }],
            "volumes": [
                {"name": "generic", "ephemeral": {"volumeClaimTemplate": {"spec": {
                    "storageClassName": STORAGE_CLASS, "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "24Mi"}}}}}},
                {"name": "inline", "csi": {"driver": "csi.kubelab.dev", "volumeAttributes": {"size": "16Mi"}}},
            ],
        },
    }  # fmt: skip


def test_10_ephemeral_volumes_go_with_the_pod(kubectl: Kubectl, namespace: str, driver: str) -> None:
    """Both volumes are mounted and writable, each with its own size (df); deleting the pod deletes the
    generic volume's claim and PV and the inline volume's subvolume.

    Hint (6.4): an inline volume reaches the driver as a NodePublishVolume with
    csi.storage.k8s.io/ephemeral=true in its volume context (no CreateVolume, no staging); its unpublish
    deletes it (kubelab_csi/services/node.py).
    """
    kube.apply(kubectl, ephemeral_pod("scratch", namespace, driver))
    pods.wait_phase(kubectl, namespace, "scratch", {"Running"}, timeout=180)
    exec_sh(kubectl, namespace, "scratch", "echo g > /generic/f && echo i > /inline/f && sync")
    full = exec_sh(kubectl, namespace, "scratch", "dd if=/dev/zero of=/inline/fill bs=1M count=40 2>&1; echo exit=$?")
    assert "exit=1" in full and "quota" in full.lower(), full
    node = pod_node(kubectl, namespace, "scratch")
    before = set(node_sh(node, "ls /var/lib/kubelab-csi/pool/volumes").split())
    kubectl.run("-n", namespace, "delete", "pod", "scratch", "--wait=true")
    wait_gone(kubectl, "-n", namespace, "get", "pvc", "scratch-generic")

    def cleaned() -> bool:
        after = set(node_sh(node, "ls /var/lib/kubelab-csi/pool/volumes").split())
        gone = before - after
        assert len(gone) == 2, f"subvolumes gone: {sorted(gone)} (before {sorted(before)})"
        return True

    eventually(cleaned, timeout=90, interval=2, what="both ephemeral volumes deleted on the node")
