"""Smoke checkpoints: the cluster every lab runs on is whole.

Each test says what it needs from the cluster; a failure prints a hint.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kubelab_cluster.kind import pods
from kubelab_cluster.kind.kubectl import Kubectl

NS = "kubelab-smoke"


def apply(kubectl: Kubectl, obj: dict[str, Any]) -> None:
    pods.apply(kubectl, obj)


def pod(name: str, image: str, node: str, command: list[str], restart: str = "Never") -> dict[str, Any]:
    return pods.pod_manifest(name, NS, image, node, command, restart=restart)


def wait_phase(kubectl: Kubectl, name: str, phases: set[str], timeout: float = 120) -> dict[str, Any]:
    return pods.wait_phase(kubectl, NS, name, phases, timeout)


def run_to_completion(kubectl: Kubectl, name: str, image: str, node: str, code: str) -> str:
    return pods.run_to_completion(kubectl, NS, name, image, node, code)


@pytest.fixture(scope="module")
def workers(kubectl: Kubectl) -> list[str]:
    nodes = kubectl.json("get", "nodes")["items"]
    names = [
        n["metadata"]["name"] for n in nodes if "node-role.kubernetes.io/control-plane" not in n["metadata"]["labels"]
    ]
    assert len(names) >= 2, "the smoke test needs two worker nodes"
    return sorted(names)


@pytest.fixture(scope="module")
def namespace(kubectl: Kubectl) -> Iterator[str]:
    kubectl.run("delete", "namespace", NS, "--ignore-not-found", "--wait=true", timeout=180)
    kubectl.run("create", "namespace", NS)
    yield NS
    kubectl.run("delete", "namespace", NS, "--wait=false", check=False)


@pytest.fixture(scope="module")
def web(kubectl: Kubectl, namespace: str, lab_image: str, workers: list[str]) -> dict[str, Any]:
    """An HTTP server pod on the first worker, behind a ClusterIP Service."""
    server = pod("web", lab_image, workers[0], ["python3", "-m", "http.server", "8080"], restart="Always")
    apply(kubectl, server)
    apply(
        kubectl,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": NS},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]},
        },
    )
    obj = wait_phase(kubectl, "web", {"Running"})
    kubectl.run("-n", NS, "wait", "--for=condition=Ready", "pod/web", "--timeout=60s", timeout=70)
    svc = kubectl.json("-n", NS, "get", "service", "web")
    return {"pod_ip": obj["status"]["podIP"], "cluster_ip": svc["spec"]["clusterIP"]}


def test_01_nodes_ready(kubectl: Kubectl, external_cluster: bool) -> None:
    """Every node is Ready.

    Hint: `kubectl get nodes`; a NotReady node usually has no CNI config (see the default network in
    cluster/kubelab_cluster/kind/network.py) or a kubelet that fails (docker exec NODE journalctl -u kubelet).
    """
    nodes = kubectl.json("get", "nodes")["items"]
    if not external_cluster:
        assert len(nodes) == 3, [n["metadata"]["name"] for n in nodes]
    for n in nodes:
        ready = {c["type"]: c["status"] for c in n["status"]["conditions"]}.get("Ready")
        assert ready == "True", f"{n['metadata']['name']} Ready={ready}"


def test_02_kube_system_healthy(kubectl: Kubectl) -> None:
    """Nothing in kube-system is failing.

    Hint: `kubectl -n kube-system get pods`, then `kubectl -n kube-system describe pod NAME`.
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

    Hint: the lab image is loaded with `kind load docker-image`; check `crictl images` on the node.
    """
    for i, node in enumerate(workers):
        out = run_to_completion(
            kubectl, f"py-{i}", lab_image, node, "import sys, kubelab_cluster; print('python', sys.version.split()[0])"
        )
        assert out.startswith("python 3.11"), out


def test_04_pod_to_pod_across_nodes(kubectl: Kubectl, web: dict[str, Any], lab_image: str, workers: list[str]) -> None:
    """A pod on one worker reaches a pod on the other by its IP.

    Hint: each node needs a route to every other node's podCIDR (`docker exec NODE ip route`).
    """
    code = f"import urllib.request as u; print(u.urlopen('http://{web['pod_ip']}:8080/', timeout=10).status)"
    assert run_to_completion(kubectl, "pod2pod", lab_image, workers[1], code).strip() == "200"


def test_05_service_from_another_node(
    kubectl: Kubectl, web: dict[str, Any], lab_image: str, workers: list[str]
) -> None:
    """A ClusterIP Service is reached from a pod on another node (kube-proxy's rules).

    Hint: `kubectl -n kube-system logs ds/kube-proxy`; `docker exec NODE iptables-save -t nat | grep KUBE-SVC`.
    """
    code = f"import urllib.request as u; print(u.urlopen('http://{web['cluster_ip']}/', timeout=10).status)"
    assert run_to_completion(kubectl, "svc", lab_image, workers[1], code).strip() == "200"


def test_06_dns(kubectl: Kubectl, namespace: str, lab_image: str, workers: list[str]) -> None:
    """CoreDNS resolves kubernetes.default.svc.cluster.local to the API Service's ClusterIP.

    Hint: `kubectl -n kube-system logs deploy/coredns`; the pod's /etc/resolv.conf must name the kube-dns IP.
    """
    expected = kubectl.json("get", "service", "kubernetes")["spec"]["clusterIP"]
    code = "import socket; print(socket.gethostbyname('kubernetes.default.svc.cluster.local'))"
    assert run_to_completion(kubectl, "dns", lab_image, workers[1], code).strip() == expected


def test_07_logs_and_exec(kubectl: Kubectl, web: dict[str, Any]) -> None:
    """`kubectl logs` and `kubectl exec` work (the API server reaches the kubelet).

    Hint: both go API server -> kubelet :10250; check the kubelet serving certificate and node IPs.
    """
    logs = kubectl.run("-n", NS, "logs", "web")
    assert "GET / HTTP/1.1" in logs
    out = kubectl.run("-n", NS, "exec", "web", "--", "python3", "-c", "print(6 * 7)")
    assert out.strip() == "42"
