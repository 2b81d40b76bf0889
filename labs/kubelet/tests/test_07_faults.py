"""Checkpoint 7 (faults): the plugin's socket vanishing, an Allocate for a device that does not exist."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.nodes import node_run
from kubelab_labkit.waiting import eventually

from .devicelab import RESOURCE, SEED_COUNT, SOCKET, plugin_cli, plugin_log, wait_allocatable


def test_07_lost_socket_and_unknown_device(kubectl: Kubectl, plugin: str, workers: list[str]) -> None:
    """A deleted plugin socket is served and registered again; Allocate of `accel-99` is refused with
    INVALID_ARGUMENT naming the node's devices, and nothing is handed out.

    Hint (Chapter 9): check for your socket as often as for the kubelet's; refuse unknown IDs before
    building a response.
    """
    node = workers[0]
    before = plugin_log(kubectl, node).count("vanished")
    node_run(node, "rm", "-f", SOCKET)

    def served_again() -> bool:
        assert plugin_log(kubectl, node).count("vanished") > before, "the plugin did not notice its socket going"
        node_run(node, "test", "-S", SOCKET)
        return True

    eventually(served_again, timeout=60, interval=1, what="the plugin's socket served again")
    wait_allocatable(kubectl, node, SEED_COUNT)
    refused = plugin_cli(kubectl, node, "call", "allocate", "accel-0", "accel-99", check=False)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert refused.stdout.strip() == (
        f"INVALID_ARGUMENT: unknown device accel-99 of {RESOURCE}: this node has accel-0, accel-1, accel-2, accel-3"
    ), refused.stdout
