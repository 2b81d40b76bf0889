"""Checkpoint 3 (device plugins: the kubelet's accounting): pods on one node get distinct devices."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl

from .devicelab import link_of, run_accelerator_pod, wait_allocatable


def test_03_pods_get_distinct_devices(kubectl: Kubectl, namespace: str, plugin: str, workers: list[str]) -> None:
    """With checkpoint 2's pod holding one link group, a second pod of two gets the other group and a
    third of one has to wait until one goes; deleting the pods frees the devices.

    Hint (Chapter 9): the kubelet remembers what it handed out (its checkpoint in
    /var/lib/kubelet/device-plugins/kubelet_internal_checkpoint); the preference must choose among the
    `available` devices only.
    """
    node = workers[0]
    first = kubectl.run("-n", namespace, "exec", "pair", "--", "printenv", "KUBELAB_ACCELERATORS").strip().split(",")
    second = run_accelerator_pod(kubectl, namespace, "second-pair", plugin, node, 2)
    assert not set(first) & set(second), (first, second)
    assert len({link_of(i) for i in second}) == 1, second
    kubectl.run("-n", namespace, "delete", "pod", "pair", "second-pair", "--wait=true")
    wait_allocatable(kubectl, node, 4)
