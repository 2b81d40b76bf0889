"""Checkpoint 8 (book 6.5): restarting the node plugin leaves mounted volumes working."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube
from kubelab_labkit.nodes import node_sh
from kubelab_labkit.waiting import eventually

from .csilab import SYSTEM_NS, driver_pod, exec_sh, pod_node


def test_08_driver_restart_keeps_mounts(kubectl: Kubectl, namespace: str, driver: str) -> None:
    """The driver's pod on the reader's node is deleted: the reader keeps reading and writing its volume;
    the new driver pod finds every volume again (the pool stays mounted on the node), and unmounts the
    reader's volume when the reader is deleted.

    Hint (6.5): the pool is mounted under /var/lib/kubelab-csi with Bidirectional propagation, so the mounts
    live on the node, not in the driver's container; `kubectl -n kubelab-csi logs ds/kubelab-csi-node -c driver`.
    """
    node = pod_node(kubectl, namespace, "reader")
    old = driver_pod(kubectl, node)
    kubectl.run("-n", SYSTEM_NS, "delete", "pod", old, "--wait=true")
    assert (
        exec_sh(kubectl, namespace, "reader", "echo during > /data/during && cat /data/note").strip()
        == "kept across pods"
    )
    kube.rollout(kubectl, "daemonset/kubelab-csi-node", namespace=SYSTEM_NS, timeout=180)
    assert driver_pod(kubectl, node) != old
    assert exec_sh(kubectl, namespace, "reader", "cat /data/during").strip() == "during"

    uid = kubectl.json("-n", namespace, "get", "pod", "reader")["metadata"]["uid"]
    kubectl.run("-n", namespace, "delete", "pod", "reader", "--wait=true")

    def unmounted() -> bool:
        mounts = node_sh(node, f"grep -c {uid} /proc/self/mountinfo || true").strip()
        assert mounts == "0", f"{mounts} mounts of the deleted pod {uid} left on {node}"
        return True

    eventually(unmounted, timeout=60, interval=1, what="the reader's volume unmounted")
