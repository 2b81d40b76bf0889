"""Checkpoint 4 (device plugins: health through ListAndWatch): a device marked unhealthy lowers the
node's allocatable; healthy again, it comes back."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl

from .devicelab import SEED_COUNT, plugin_cli, wait_allocatable


def test_04_unhealthy_devices_are_not_allocatable(kubectl: Kubectl, plugin: str, workers: list[str]) -> None:
    """`kubelab-deviceplugin devices health accel-3 unhealthy` on a node: allocatable drops by one
    within seconds, and rises again when it is healthy.

    Hint (Chapter 9): ListAndWatch sends the whole list again with each device's health whenever it
    changes; the kubelet counts Healthy devices only.
    """
    node = workers[1]
    plugin_cli(kubectl, node, "devices", "health", "accel-3", "unhealthy")
    try:
        wait_allocatable(kubectl, node, SEED_COUNT - 1, timeout=30)
    finally:
        plugin_cli(kubectl, node, "devices", "health", "accel-3", "healthy")
    wait_allocatable(kubectl, node, SEED_COUNT, timeout=30)
