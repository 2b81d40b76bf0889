"""Checkpoint 3 (book 6.4, 6.7): a volume holds its size and no more."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl

from .csilab import exec_sh


def test_03_writing_past_the_size_fails(kubectl: Kubectl, namespace: str, driver: str) -> None:
    """The 64 MiB claim of checkpoint 2 takes about 64 MiB and then refuses writes (EDQUOT), and the
    kubelet's volume stats report its capacity, not the pool's.

    Hint (6.7): each volume is a btrfs subvolume with a qgroup limit (kubelab_csi/storage/volumes.py,
    btrfs.py). On the node: `btrfs qgroup show -rf /var/lib/kubelab-csi/pool/volumes/vol-…`.
    """
    result = exec_sh(
        kubectl,
        namespace,
        "reader",
        "dd if=/dev/zero of=/data/fill bs=1M count=100 conv=fsync; echo exit=$?",
        check=False,
    )
    output = result.stdout + result.stderr
    assert "exit=1" in output and "quota exceeded" in output.lower(), output
    written = int(exec_sh(kubectl, namespace, "reader", "stat -c %s /data/fill").strip())
    assert 56 << 20 <= written <= 64 << 20, written
    exec_sh(kubectl, namespace, "reader", "rm /data/fill && sync")
