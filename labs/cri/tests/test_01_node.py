"""Checkpoint 1 (book 4.1, 4.2): the swappable worker's kubelet runs on kubelab-cri and the node is Ready."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl

from .crilab import OURS, crictl


def test_01_node_ready_on_kubelab_cri(kubectl: Kubectl, cri_node: str) -> None:
    """The node reports kubelab-cri as its runtime and is Ready: the kubelet got Version,
    Status (RuntimeReady, NetworkReady), RuntimeConfig (systemd cgroups) and ImageFsInfo.

    Hint (4.1): `docker exec NODE crictl --runtime-endpoint unix:///run/kubelab-cri/kubelab-cri.sock info`
    shows what Status answers; `docker exec NODE journalctl -u kubelet | grep -i 'runtime\\|cri'`.
    """
    node = kubectl.json("get", "node", cri_node)
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"] == "kubelab-cri://0.1.0"
    ready = {c["type"]: c["status"] for c in node["status"]["conditions"]}
    assert ready["Ready"] == "True", node["status"]["conditions"]
    info = crictl(cri_node, OURS, "info")
    assert '"RuntimeReady"' in info and '"NetworkReady"' in info and '"false"' not in info.lower().replace(" ", "")
