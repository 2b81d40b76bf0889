"""kubelab-csi: a local-storage CSI v1 driver in Python on btrfs subvolumes (book chapter 6)."""
