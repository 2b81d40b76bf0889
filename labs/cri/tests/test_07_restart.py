"""Checkpoint 7 (book 4.3): restarting the runtime keeps the pods running: the same containers,
no restart counted, still serving, and the node stays Ready."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.nodes import node_sh
from kubelab_labkit.waiting import eventually

from .crilab import OURS, crictl, wait_for_runtime


def containers_of(kubectl: Kubectl, namespace: str) -> dict[str, tuple[str, int]]:
    pods = kubectl.json("-n", namespace, "get", "pods", "-l", "app=web")["items"]
    return {
        p["metadata"]["name"]: (
            p["status"]["containerStatuses"][0]["containerID"],
            p["status"]["containerStatuses"][0]["restartCount"],
        )
        for p in pods
    }


def test_07_runtime_restart_keeps_pods(kubectl: Kubectl, cri_node: str, namespace: str) -> None:
    """`systemctl restart kubelab-cri`: every web container has the same ID and restart count
    afterwards, the runtime lists it running, and the Service still answers.

    Hint (4.3): containers must outlive the runtime: each has a monitor process in a session of
    its own (kubelab_cri/runtime/shim.py) and the unit has KillMode=process; a restarted runtime
    rebuilds its view from the records under /var/lib/kubelab-cri, nothing only in memory.
    """
    before = containers_of(kubectl, namespace)
    assert len(before) == 2, before
    pid_before = node_sh(cri_node, "systemctl show -p MainPID --value kubelab-cri").strip()
    node_sh(cri_node, "systemctl restart kubelab-cri")
    wait_for_runtime(cri_node)
    assert node_sh(cri_node, "systemctl show -p MainPID --value kubelab-cri").strip() != pid_before
    running = set(crictl(cri_node, OURS, "ps", "--state", "running", "-q", "--no-trunc").split())
    for name, (cid, _) in before.items():
        assert cid.removeprefix("kubelab-cri://") in running, f"{name}'s container is not running after the restart"
    answer = kubectl.run("-n", namespace, "exec", "client", "--", "timeout", "5", "wget", "-qO-", "http://web/")
    assert answer.strip() in before, answer
    eventually(
        lambda: containers_of(kubectl, namespace) == before,
        timeout=20,
        what="the same containers, no restarts, in the pods' status",
    )
    ready = eventually(
        lambda: (
            {c["type"]: c["status"] for c in kubectl.json("get", "node", cri_node)["status"]["conditions"]}["Ready"]
            == "True"
        ),
        timeout=30,
        what="the node Ready",
    )
    assert ready
