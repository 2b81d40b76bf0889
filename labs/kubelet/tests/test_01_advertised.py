"""Checkpoint 1 (device plugins: registration, ListAndWatch): every worker advertises its four
simulated accelerators as allocatable kubelab.dev/accelerator."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl

from .devicelab import RESOURCE, SEED_COUNT, plugin_log, wait_allocatable


def test_01_every_worker_advertises_its_accelerators(kubectl: Kubectl, plugin: str, workers: list[str]) -> None:
    """The plugin registered with each worker's kubelet, which lists its healthy devices in the node's
    capacity and allocatable.

    Hint (Chapter 9, device plugins): the plugin calls Registration/Register on
    /var/lib/kubelet/device-plugins/kubelet.sock, then the kubelet calls ListAndWatch on the plugin's
    socket; `kubectl get node NODE -o jsonpath='{.status.allocatable}'`, the plugin's log
    (`kubectl -n kubelab-devices logs ds/kubelab-deviceplugin`).
    """
    for node in workers:
        wait_allocatable(kubectl, node, SEED_COUNT)
        assert f"registered {RESOURCE} with the kubelet" in plugin_log(kubectl, node)
