"""kubelab-csi: a local-storage CSI v1 driver in Python on btrfs subvolumes (book chapter 6)."""

DRIVER_NAME = "csi.kubelab.dev"
TOPOLOGY_KEY = "topology.csi.kubelab.dev/node"
