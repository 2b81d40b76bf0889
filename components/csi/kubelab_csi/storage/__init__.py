"""The node's storage: one btrfs filesystem (the pool), a subvolume per volume, read-only subvolumes as snapshots."""
