"""Checkpoint 5 (book 6.3, 6.4): snapshot then restore, and a clone, hold the data."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube, pods

from .csilab import exec_sh, pod_node, pod_with, pvc, pvc_source, snapshot, snapshot_source, wait_snapshot_ready


def test_05_snapshot_restore_and_clone(kubectl: Kubectl, namespace: str, driver: str) -> None:
    """A VolumeSnapshot of the claim becomes ready; a claim restored from it, and a clone of the claim,
    each hold the file the pod wrote; writing the clone leaves the original alone.

    Hint (6.4): csi-snapshotter runs on every node (node deployment) and the snapshot controller hands
    it the snapshots of its node's volumes; `kubectl -n kubelab-csi-lab describe volumesnapshot snap`,
    `kubectl get volumesnapshotcontent`, the driver's log for CreateSnapshot.
    """
    node = pod_node(kubectl, namespace, "reader")
    exec_sh(kubectl, namespace, "reader", "echo snapshot me > /data/snap && sync")
    kube.apply(kubectl, snapshot("snap", namespace, "data"))
    ready = wait_snapshot_ready(kubectl, namespace, "snap")
    assert ready["status"]["restoreSize"] == "160Mi", ready["status"]
    exec_sh(kubectl, namespace, "reader", "echo changed later > /data/snap && sync")

    kube.apply(
        kubectl,
        pvc("restored", namespace, "160Mi", source=snapshot_source("snap")),
        pvc("clone", namespace, "200Mi", source=pvc_source("data")),
        pod_with("from-snapshot", namespace, driver, "restored", node=node),
        pod_with("from-clone", namespace, driver, "clone", node=node),
    )
    pods.wait_phase(kubectl, namespace, "from-snapshot", {"Running"}, timeout=180)
    pods.wait_phase(kubectl, namespace, "from-clone", {"Running"}, timeout=180)
    assert exec_sh(kubectl, namespace, "from-snapshot", "cat /data/snap").strip() == "snapshot me"
    assert exec_sh(kubectl, namespace, "from-clone", "cat /data/snap").strip() == "changed later"
    exec_sh(kubectl, namespace, "from-clone", "echo clone only > /data/snap && sync")
    assert exec_sh(kubectl, namespace, "reader", "cat /data/snap").strip() == "changed later"
