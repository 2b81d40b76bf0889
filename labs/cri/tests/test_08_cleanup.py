"""Checkpoint 8 (book 4.2, 4.3): deleting pods leaves nothing behind on the node: no network
namespace, overlay mount, cgroup, monitor process or runc container of a pod that is gone."""

from __future__ import annotations

import json

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.waiting import eventually

from .crilab import OURS, crictl, daemonset_pods, leftovers


def test_08_deleting_pods_leaves_nothing(kubectl: Kubectl, cri_node: str, namespace: str) -> None:
    """After the lab's pods are deleted, only the node's DaemonSet pods (kube-proxy, and the CNI
    lab's agent once that lab has run) remain on the runtime, and every namespace, mount, cgroup,
    monitor and runc container left belongs to them.

    Hint (4.2, 4.3): StopPodSandbox runs the CNI DEL and deletes the namespace; RemoveContainer
    deletes the runc container, unmounts the overlay and removes the bundle; the monitor exits
    when its container does (`docker exec NODE ls /run/netns`, `grep kubelab-cri /proc/mounts`).
    """
    kubectl.run("-n", namespace, "delete", "deployment,pods", "--all", "--grace-period=1", "--wait=true", timeout=180)

    def only_daemonsets() -> list[str]:
        items = json.loads(crictl(cri_node, OURS, "pods", "-o", "json"))["items"]
        names = sorted(f"{i['metadata']['namespace']}/{i['metadata']['name']}" for i in items)
        expected = sorted(
            f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in daemonset_pods(kubectl, cri_node)
        )
        assert names == expected, f"sandboxes left: {names}, the node's DaemonSet pods: {expected}"
        assert any(n.startswith("kube-system/kube-proxy-") for n in names), f"kube-proxy's sandbox is gone: {names}"
        return [i["id"] for i in items]

    sandboxes = eventually(only_daemonsets, timeout=120, what="only the DaemonSet pods' sandboxes on the runtime")
    containers = set(crictl(cri_node, OURS, "ps", "-a", "-q", "--no-trunc").split())
    owners = containers | set(sandboxes)  # a pod's pinned IPC/UTS namespaces are mounts of its sandbox
    running = set(crictl(cri_node, OURS, "ps", "--state", "running", "-q", "--no-trunc").split())

    def clean() -> bool:
        left = leftovers(cri_node)
        assert left["netns"] == [], f"network namespaces left: {left['netns']} (DaemonSet pods use the host's)"
        for what in ("mounts", "cgroups", "runc"):
            strays = [entry for entry in left[what] if not any(owner in entry for owner in owners)]
            assert strays == [], f"{what} of containers that are gone: {strays}"
        monitored = [cid for cid in running if any(cid in line for line in left["monitors"])]
        assert len(left["monitors"]) == len(running) == len(monitored), (
            f"one monitor per running container: {left['monitors']} for {sorted(running)}"
        )
        return True

    eventually(clean, timeout=30, what="nothing left of the deleted pods")
