"""Checkpoint 2 (book 6.3, 6.7): a claim is provisioned on the node its pod is scheduled to, and its
data outlives the pod."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube, pods

from .csilab import bound_pv, exec_sh, pod_node, pod_with, pv_node, pvc


def test_02_provisioned_where_the_pod_runs_and_data_survives(kubectl: Kubectl, namespace: str, driver: str) -> None:
    """WaitForFirstConsumer: the PV is made after scheduling, on the pod's node (its nodeAffinity says
    so); a file written by the pod is there for a second pod after the first is deleted.

    Hint (6.7): NodeStageVolume bind-mounts the volume's subvolume on the staging path, NodePublishVolume
    the staging path on the pod's (kubelab_csi/node/mounting.py). `kubectl -n kubelab-csi-lab describe pod
    writer` shows MountVolume errors with the driver's status; the driver's log has each call.
    """
    kube.apply(kubectl, pvc("data", namespace, "64Mi"))
    kube.apply(kubectl, pod_with("writer", namespace, driver, "data"))
    pods.wait_phase(kubectl, namespace, "writer", {"Running"}, timeout=180)
    pv = bound_pv(kubectl, namespace, "data")
    node = pod_node(kubectl, namespace, "writer")
    assert pv_node(pv) == node, (pv["spec"]["nodeAffinity"], node)
    assert pv["spec"]["capacity"]["storage"] == "64Mi"
    exec_sh(kubectl, namespace, "writer", "echo kept across pods > /data/note && sync")
    kubectl.run("-n", namespace, "delete", "pod", "writer", "--wait=true")

    kube.apply(kubectl, pod_with("reader", namespace, driver, "data"))
    pods.wait_phase(kubectl, namespace, "reader", {"Running"}, timeout=180)
    assert pod_node(kubectl, namespace, "reader") == node, "the claim's volume pins the pod to its node"
    assert exec_sh(kubectl, namespace, "reader", "cat /data/note").strip() == "kept across pods"
