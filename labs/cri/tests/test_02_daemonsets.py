"""Checkpoint 2 (book 4.2-4.4): the node's DaemonSet pods run on kubelab-cri: kube-proxy's image
pulled through the registry mirror, its privileged host-network container started by runc."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.waiting import eventually

from .crilab import OURS, crictl


def test_02_kube_proxy_runs_on_kubelab_cri(kubectl: Kubectl, cri_node: str) -> None:
    """kube-proxy's pod on the node is Running and Ready, its container is one of kubelab-cri's.

    Hint (4.3): `kubectl -n kube-system describe pod -l k8s-app=kube-proxy --field-selector spec.nodeName=NODE`
    (events: pull and create errors as the runtime reported them); on the node,
    `crictl --runtime-endpoint unix:///run/kubelab-cri/kubelab-cri.sock ps -a` and `... images`.
    """

    def proxy() -> dict[str, object]:
        pods = kubectl.json(
            "-n",
            "kube-system",
            "get",
            "pods",
            "-l",
            "k8s-app=kube-proxy",
            "--field-selector",
            f"spec.nodeName={cri_node}",
        )["items"]
        assert pods, "no kube-proxy pod on the node yet"
        statuses = pods[0]["status"].get("containerStatuses") or [{}]
        assert statuses[0].get("ready"), pods[0]["status"]
        return pods[0]  # type: ignore[no-any-return]

    pod = eventually(proxy, timeout=120, what="kube-proxy Ready on the node")
    container_id = pod["status"]["containerStatuses"][0]["containerID"]  # type: ignore[index]
    assert container_id.startswith("kubelab-cri://"), container_id
    listed = crictl(cri_node, OURS, "ps", "--name", "kube-proxy", "-q", "--no-trunc").split()
    assert container_id.removeprefix("kubelab-cri://") in listed
    assert "registry.k8s.io/kube-proxy" in crictl(cri_node, OURS, "images")
