"""Checkpoint 2 (device plugins: GetPreferredAllocation, Allocate, CDI): a pod asking for two
accelerators gets two of one link group, visible in its environment, its mounts and as devices."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl

from .devicelab import link_of, pod_env, run_accelerator_pod


def test_02_a_pod_gets_devices_of_one_link_group(
    kubectl: Kubectl, namespace: str, plugin: str, workers: list[str]
) -> None:
    """The kubelet asks the plugin for a preference, allocates it, and the container sees the devices:
    KUBELAB_ACCELERATORS, each device's folder mounted read-only, and the CDI device (a device node
    and a variable naming its link group, added by containerd from the plugin's CDI spec).

    Hint (Chapter 9, exercise 9.2): kubelab_deviceplugin/allocation.py `preferred` chooses the devices:
    all of `must_include`, then as few link groups as possible. `kubectl -n kubelab-kubelet-lab describe
    pod pair` shows an admission error from the plugin; its log has each call.
    """
    node = workers[0]
    ids = run_accelerator_pod(kubectl, namespace, "pair", plugin, node, 2)
    assert len(set(ids)) == 2, ids
    assert len({link_of(i) for i in ids}) == 1, f"devices {ids} span link groups: the preference was not followed"
    env = pod_env(kubectl, namespace, "pair")
    for device in ids:
        variable = "KUBELAB_ACCELERATOR_" + device.upper().replace("-", "_") + "_LINK"
        assert env.get(variable) == link_of(device), f"CDI edit {variable} missing or wrong: {env.get(variable)}"
        info = kubectl.run("-n", namespace, "exec", "pair", "--", "cat", f"/var/run/kubelab/accelerators/{device}/info")
        assert info == f"id={device}\nlink={link_of(device)}\n"
        kubectl.run("-n", namespace, "exec", "pair", "--", "test", "-c", f"/dev/kubelab/{device}")
