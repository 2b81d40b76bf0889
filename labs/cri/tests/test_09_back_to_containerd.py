"""Checkpoint 9: the node goes back to containerd and the cluster is as it was: kube-proxy runs
there again, kubelab-cri left nothing behind, and a pod on the node pulls and runs."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube, pods
from kubelab_labkit.waiting import eventually

from .crilab import CONTAINERD, OURS, crictl, leftovers, stop_runtime, use_runtime


def test_09_back_to_containerd(kubectl: Kubectl, cri_node: str, namespace: str, busybox: str) -> None:
    """The kubelet moved back (drain, every kubelab-cri pod removed, the drop-in gone): the node
    reports containerd and is Ready, kube-proxy is Running on it, nothing of kubelab-cri's pods
    remains, and a busybox pod on the node Succeeds.

    Hint (4.1, 4.2): crilab.use_runtime (what is undone, in which order: drain, kubelet stopped, `crictl rmp`
    of every kubelab-cri pod, the drop-in removed); `docker exec NODE systemctl cat kubelet` must not show
    /etc/systemd/system/kubelet.service.d/30-kubelab-cri.conf any more, and `kubectl get node NODE -o
    jsonpath='{.status.nodeInfo.containerRuntimeVersion}'` must say containerd://. What is left behind is
    listed by crilab.leftovers (`docker exec NODE ls /run/netns`, `grep kubelab-cri /proc/mounts`).
    """
    use_runtime(kubectl, cri_node, CONTAINERD)
    left = leftovers(cri_node)
    assert all(not entries for entries in left.values()), left
    assert crictl(cri_node, OURS, "pods", "-q").split() == []
    stop_runtime(cri_node)
    node = kubectl.json("get", "node", cri_node)
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://")

    def proxy_ready() -> bool:
        items = kubectl.json(
            "-n",
            "kube-system",
            "get",
            "pods",
            "-l",
            "k8s-app=kube-proxy",
            "--field-selector",
            f"spec.nodeName={cri_node}",
        )["items"]
        return bool(items) and all(s.get("ready") for s in items[0]["status"].get("containerStatuses", [{}]))

    eventually(proxy_ready, timeout=120, what="kube-proxy Ready on containerd")
    kube.apply(kubectl, pods.pod("after", namespace, busybox, ["sh", "-c", "echo back on containerd"], node=cri_node))
    phase, logs = pods.wait_done(kubectl, namespace, "after", timeout=120)
    assert (phase, logs.strip()) == ("Succeeded", "back on containerd")
