"""Checkpoint 2 (book 4.2-4.4): the node's DaemonSet pods run on kubelab-cri: kube-proxy (and the
CNI lab's agent, once that lab has run) pulled through the registry mirror, privileged
host-network containers started by runc."""

from __future__ import annotations

from typing import Any

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.waiting import eventually

from .crilab import OURS, crictl, daemonset_pods


def test_02_daemonset_pods_run_on_kubelab_cri(kubectl: Kubectl, cri_node: str) -> None:
    """Every DaemonSet pod on the node (kube-proxy at least) is Running and Ready, each of its
    containers one of kubelab-cri's.

    Hint (4.3): `kubectl -n kube-system describe pod -l k8s-app=kube-proxy --field-selector spec.nodeName=NODE`
    (events: pull and create errors as the runtime reported them); on the node,
    `crictl --runtime-endpoint unix:///run/kubelab-cri/kubelab-cri.sock ps -a` and `... images`.
    """

    def all_ready() -> list[dict[str, Any]]:
        found = daemonset_pods(kubectl, cri_node)
        assert any(p["metadata"]["name"].startswith("kube-proxy-") for p in found), "no kube-proxy pod on the node yet"
        for p in found:
            statuses = p["status"].get("containerStatuses") or [{}]
            assert all(s.get("ready") for s in statuses), f"{p['metadata']['name']}: {statuses}"
            # right after the swap the status can still name the containerd container it had
            ids = [s.get("containerID", "") for s in statuses]
            assert all(i.startswith("kubelab-cri://") for i in ids), (p["metadata"]["name"], ids)
        return found

    found = eventually(all_ready, timeout=180, what="every DaemonSet pod Ready on the node")
    listed = set(crictl(cri_node, OURS, "ps", "-q", "--no-trunc").split())
    for p in found:
        for status in p["status"]["containerStatuses"]:
            assert status["containerID"].removeprefix("kubelab-cri://") in listed
    assert "registry.k8s.io/kube-proxy" in crictl(cri_node, OURS, "images")
