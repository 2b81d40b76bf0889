"""Checkpoint 1 (book 6.1, 6.2, 6.5): the driver is registered with every worker's kubelet, with its
topology, and the provisioner publishes each node's free space as CSIStorageCapacity."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.waiting import eventually

from .csilab import DRIVER, TOPOLOGY_KEY, GiB, capacity_of


def test_01_registered_on_every_worker(kubectl: Kubectl, driver: str, workers: list[str]) -> None:
    """Each worker's CSINode lists csi.kubelab.dev with the node's topology key; the node carries the
    label; CSIStorageCapacity exists per node with a capacity below the pool's size.

    Hint (6.2): the kubelet registers the driver after GetInfo on
    /var/lib/kubelet/plugins_registry/csi.kubelab.dev-reg.sock and NodeGetInfo on the driver's socket:
    `kubectl get csinode NODE -o yaml`, `kubectl -n kubelab-csi logs ds/kubelab-csi-node -c driver | grep -i regist`.
    """
    for node in workers:

        def registered(node: str = node) -> bool:
            drivers = kubectl.json("get", "csinode", node)["spec"].get("drivers") or []
            ours = [d for d in drivers if d["name"] == DRIVER]
            assert ours, f"{node}'s CSINode lists {[d['name'] for d in drivers]}"
            assert ours[0].get("topologyKeys") == [TOPOLOGY_KEY], ours[0]
            return True

        eventually(registered, timeout=90, interval=1, what=f"{DRIVER} registered on {node}")
        labels = kubectl.json("get", "node", node)["metadata"]["labels"]
        assert labels.get(TOPOLOGY_KEY) == node, labels
        capacity = eventually(lambda node=node: capacity_of(kubectl, node), timeout=90, interval=2,
                              what=f"a CSIStorageCapacity for {node}")  # fmt: skip
        assert 6 * GiB < capacity < 8 * GiB, f"{capacity} bytes: most of the 8 GiB pool, less btrfs's metadata"
    info = kubectl.json("get", "csidriver", DRIVER)["spec"]
    assert info["storageCapacity"] is True and info["attachRequired"] is False
