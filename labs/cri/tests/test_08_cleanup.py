"""Checkpoint 8 (book 4.2, 4.3): deleting pods leaves nothing behind on the node: no network
namespace, overlay mount, cgroup, monitor process or runc container of a pod that is gone."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.waiting import eventually

from .crilab import OURS, crictl, leftovers


def test_08_deleting_pods_leaves_nothing(kubectl: Kubectl, cri_node: str, namespace: str) -> None:
    """After the lab's pods are deleted, only kube-proxy's sandbox and container remain on the
    runtime, and every namespace, mount, cgroup, monitor and runc container left belongs to them.

    Hint (4.2, 4.3): StopPodSandbox runs the CNI DEL and deletes the namespace; RemoveContainer
    deletes the runc container, unmounts the overlay and removes the bundle; the monitor exits
    when its container does (`docker exec NODE ls /run/netns`, `grep kubelab-cri /proc/mounts`).
    """
    kubectl.run("-n", namespace, "delete", "deployment,pods", "--all", "--grace-period=1", "--wait=true", timeout=180)

    def only_kube_proxy() -> list[str]:
        sandboxes = crictl(cri_node, OURS, "pods", "-q", "--no-trunc").split()
        names = crictl(cri_node, OURS, "pods", "-o", "json")
        assert len(sandboxes) == 1 and '"kube-proxy-' in names, f"sandboxes left: {names}"
        return sandboxes

    eventually(only_kube_proxy, timeout=120, what="only kube-proxy's sandbox on the runtime")
    containers = set(crictl(cri_node, OURS, "ps", "-a", "-q", "--no-trunc").split())
    running = set(crictl(cri_node, OURS, "ps", "--state", "running", "-q", "--no-trunc").split())

    def clean() -> bool:
        left = leftovers(cri_node)
        assert left["netns"] == [], f"network namespaces left: {left['netns']} (kube-proxy uses the host's)"
        for what in ("mounts", "cgroups", "runc"):
            strays = [entry for entry in left[what] if not any(cid in entry for cid in containers)]
            assert strays == [], f"{what} of containers that are gone: {strays}"
        monitored = [cid for cid in running if any(cid in line for line in left["monitors"])]
        assert len(left["monitors"]) == len(running) == len(monitored), (
            f"one monitor per running container: {left['monitors']} for {sorted(running)}"
        )
        return True

    eventually(clean, timeout=30, what="nothing left of the deleted pods")
