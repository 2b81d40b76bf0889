"""Checkpoint 6 (device plugins: re-registration): after a kubelet restart the resource comes back
and pods get devices again."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.nodes import node_run
from kubelab_labkit.waiting import eventually

from .devicelab import RESOURCE, SEED_COUNT, plugin_log, run_accelerator_pod, wait_allocatable

REGISTERED = f"registered {RESOURCE} with the kubelet"


def test_06_resource_back_after_a_kubelet_restart(
    kubectl: Kubectl, namespace: str, plugin: str, workers: list[str]
) -> None:
    """`systemctl restart kubelet` on a worker empties the device-plugins folder (the plugin's socket
    with it) and makes a new kubelet.sock; the plugin serves and registers again.

    Hint (Chapter 9): watch the kubelet's socket (inode and change time) and your own socket; the
    plugin's log says why it serves again and that it registered.
    """
    node = workers[1]
    before = plugin_log(kubectl, node).count(REGISTERED)
    node_run(node, "systemctl", "restart", "kubelet")

    def noticed() -> bool:
        count = plugin_log(kubectl, node).count(REGISTERED)
        assert count > before, f"registered {count} times, as before the restart"
        return True

    eventually(noticed, timeout=60, interval=1, what="the plugin registering again")
    wait_allocatable(kubectl, node, SEED_COUNT, timeout=120)
    ids = run_accelerator_pod(kubectl, namespace, "after-restart", plugin, node, 1)
    assert len(ids) == 1
    kubectl.run("-n", namespace, "delete", "pod", "after-restart", "--wait=true")
