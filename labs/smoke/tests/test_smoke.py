"""Smoke checkpoints: the cluster every lab runs on is whole.

Each test says what it needs from the cluster; a failure prints a hint.
"""

from __future__ import annotations

from typing import Any

import pytest

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube, nodes, objects, pods


@pytest.fixture(scope="module")
def workers(kubectl: Kubectl) -> list[str]:
    return nodes.workers(kubectl)


@pytest.fixture(scope="module")
def web(kubectl: Kubectl, namespace: str, lab_image: str, workers: list[str]) -> dict[str, Any]:
    """An HTTP server pod on the first worker, behind a ClusterIP Service.

    Hint: `kubectl -n kubelab-smoke describe pod web`; the lab image must be on the node (`crictl images`).
    """
    server = pods.pod(
        "web", namespace, lab_image, ["python3", "-m", "http.server", "8080"], node=workers[0], restart="Always"
    )
    kube.apply(kubectl, server, objects.service("web", namespace, {"app": "web"}, [(80, 8080)]))
    obj = pods.wait_phase(kubectl, namespace, "web", {"Running"})
    svc = kubectl.json("-n", namespace, "get", "service", "web")
    return {"pod_ip": obj["status"]["podIP"], "cluster_ip": svc["spec"]["clusterIP"]}


def test_01_nodes_ready(kubectl: Kubectl, external_cluster: bool) -> None:
    """Every node is Ready.

    Hint (cluster): `kubectl get nodes`; a NotReady node usually has no CNI config (see the default network in
    cluster/kubelab_cluster/kind/network.py; `docker exec NODE ls /etc/cni/net.d`) or a kubelet that fails
    (`docker exec NODE journalctl -u kubelet`); `uv run kubelab-cluster status` says which (docs/cluster.md).
    """
    nodes = kubectl.json("get", "nodes")["items"]
    if not external_cluster:
        assert len(nodes) == 3, [n["metadata"]["name"] for n in nodes]
    for n in nodes:
        ready = {c["type"]: c["status"] for c in n["status"]["conditions"]}.get("Ready")
        assert ready == "True", f"{n['metadata']['name']} Ready={ready}"


def test_02_kube_system_healthy(kubectl: Kubectl) -> None:
    """Nothing in kube-system is failing.

    Hint (cluster): `kubectl -n kube-system get pods`, then `kubectl -n kube-system describe pod NAME` and
    `kubectl -n kube-system logs NAME`; a crash-looping CoreDNS or every pod failing in runc are host
    conditions with a known fix (docs/cluster.md, "Host conditions"; docs/troubleshooting.md).
    """
    bad = []
    for p in kubectl.json("-n", "kube-system", "get", "pods")["items"]:
        name, phase = p["metadata"]["name"], p["status"].get("phase")
        statuses = p["status"].get("containerStatuses", [])
        if phase not in ("Running", "Succeeded") or not all(s.get("ready") for s in statuses):
            bad.append(f"{name}: {phase}")
        for s in statuses:
            waiting = s.get("state", {}).get("waiting", {}).get("reason")
            if waiting:
                bad.append(f"{name}/{s['name']}: {waiting}")
    assert not bad, bad


def test_03_python_on_every_worker(kubectl: Kubectl, namespace: str, lab_image: str, workers: list[str]) -> None:
    """A lab-image pod runs Python on each worker.

    Hint (cluster): the lab image reaches the nodes through the cluster's local registry (kubelab-registry,
    `localhost:5001/...` on every node; cluster/kubelab_cluster/kind/registry.py); check `docker exec NODE
    crictl images` and `kubectl -n kubelab-smoke describe pod py-0` for the pull error.
    """
    for i, node in enumerate(workers):
        out = pods.run_to_completion(
            kubectl,
            namespace,
            f"py-{i}",
            lab_image,
            node,
            "import sys, kubelab_cluster; print('python', sys.version.split()[0])",
        )
        assert out.startswith("python 3.11"), out


def test_04_pod_to_pod_across_nodes(
    kubectl: Kubectl, namespace: str, web: dict[str, Any], lab_image: str, workers: list[str]
) -> None:
    """A pod on one worker reaches a pod on the other by its IP.

    Hint (cluster): each node needs a route to every other node's podCIDR (`docker exec NODE ip route`; the
    default network's routes come from cluster/kubelab_cluster/kind/network.py, the CNI lab's from its agent,
    `kubectl -n kube-system logs ds/kubelab-cni-agent`); `kubectl -n kubelab-smoke get pods -o wide`.
    """
    code = f"import urllib.request as u; print(u.urlopen('http://{web['pod_ip']}:8080/', timeout=10).status)"
    assert pods.run_to_completion(kubectl, namespace, "pod2pod", lab_image, workers[1], code).strip() == "200"


def test_05_service_from_another_node(
    kubectl: Kubectl, namespace: str, web: dict[str, Any], lab_image: str, workers: list[str]
) -> None:
    """A ClusterIP Service is reached from a pod on another node (kube-proxy's rules).

    Hint (cluster): `kubectl -n kube-system logs ds/kube-proxy`; `docker exec NODE iptables-save -t nat | grep
    KUBE-SVC`; `kubectl -n kubelab-smoke get endpointslices` must list the web pod.
    """
    code = f"import urllib.request as u; print(u.urlopen('http://{web['cluster_ip']}/', timeout=10).status)"
    assert pods.run_to_completion(kubectl, namespace, "svc", lab_image, workers[1], code).strip() == "200"


def test_06_dns(kubectl: Kubectl, namespace: str, lab_image: str, workers: list[str]) -> None:
    """CoreDNS resolves kubernetes.default.svc.cluster.local to the API Service's ClusterIP.

    Hint (cluster): `kubectl -n kube-system logs deploy/coredns`; the pod's /etc/resolv.conf must name the
    kube-dns IP (`kubectl -n kube-system get service kube-dns`); a "plugin/loop" error is the Docker DNS
    condition in docs/cluster.md.
    """
    expected = kubectl.json("get", "service", "kubernetes")["spec"]["clusterIP"]
    code = "import socket; print(socket.gethostbyname('kubernetes.default.svc.cluster.local'))"
    assert pods.run_to_completion(kubectl, namespace, "dns", lab_image, workers[1], code).strip() == expected


def test_07_logs_and_exec(kubectl: Kubectl, namespace: str, web: dict[str, Any]) -> None:
    """`kubectl logs` and `kubectl exec` work (the API server reaches the kubelet).

    Hint (cluster): both go API server -> kubelet :10250; check the kubelet serving certificate and node IPs
    (`kubectl get nodes -o wide`, `docker exec NODE journalctl -u kubelet`), then `kubectl -n kubelab-smoke
    logs web` by hand.
    """
    logs = kubectl.run("-n", namespace, "logs", "web")
    assert "GET / HTTP/1.1" in logs
    out = kubectl.run("-n", namespace, "exec", "web", "--", "python3", "-c", "print(6 * 7)")
    assert out.strip() == "42"
