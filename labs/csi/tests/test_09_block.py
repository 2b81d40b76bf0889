"""Checkpoint 9 (book 6.4, 6.7): a raw block volume is a device of its size in the pod."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube, pods

from .csilab import exec_sh, pod_with, pvc


def test_09_raw_block_volume(kubectl: Kubectl, namespace: str, driver: str) -> None:
    """volumeMode Block: the pod sees /dev/xvda of 32 MiB, writes a block at its end and reads it back.

    Hint (6.7): a block volume is a file in its subvolume on a loop device (staged), bind-mounted on a
    file at the pod's device path (published); `losetup -a` on the node lists it.
    """
    kube.apply(
        kubectl, pvc("raw", namespace, "32Mi", block=True), pod_with("raw", namespace, driver, "raw", block=True)
    )
    pods.wait_phase(kubectl, namespace, "raw", {"Running"}, timeout=180)
    assert exec_sh(kubectl, namespace, "raw", "blockdev --getsize64 /dev/xvda").strip() == str(32 << 20)
    script = (
        "printf 'end of the device' | dd of=/dev/xvda bs=512 seek=65535 conv=fsync 2>/dev/null && "
        "dd if=/dev/xvda bs=512 skip=65535 count=1 2>/dev/null | head -c 17"
    )
    assert exec_sh(kubectl, namespace, "raw", script) == "end of the device"
