"""The CNI lab's setup: the node agent deployed (reference plugin, or --impl), CoreDNS moved
onto the new network, and a namespace with server pods on both workers.

With ``--impl PATH`` the agent installs the student's plugin instead (see labs/cni/README.md);
at the end the reference plugin is put back, so the cluster stays usable for the other labs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubelab_cluster.kind.cluster import pod_subnet
from kubelab_cluster.kind.kubectl import Kubectl

from .cnilab import NS, SERVER, SYSTEM_NS, apply, deploy_agent, nodes, pod, pods_older_than_conflist, wait_phase


def switch_network(kubectl: Kubectl, image: str, impl: Path | None) -> None:
    """Deploy the agent; then a rolling restart of CoreDNS if it started on the previous network
    (old pods serve until new ones are Ready, so a broken --impl never takes DNS down)."""
    deploy_agent(kubectl, image, pod_subnet(), impl)
    if pods_older_than_conflist(kubectl, SYSTEM_NS, "k8s-app=kube-dns"):
        kubectl.run("-n", SYSTEM_NS, "rollout", "restart", "deployment/coredns")
        timeout = 120 if impl is None else 45
        kubectl.run(
            "-n", SYSTEM_NS, "rollout", "status", "deployment/coredns", f"--timeout={timeout}s",
            timeout=timeout + 10, check=impl is None,
        )  # fmt: skip


@pytest.fixture(scope="session")
def impl(request: pytest.FixtureRequest) -> Path | None:
    given = request.config.getoption("--impl")
    if not given:
        return None
    path = Path(given).resolve()
    if not path.exists():
        pytest.exit(f"--impl {given}: no such file or directory", returncode=2)
    return path


@pytest.fixture(scope="session")
def cni_network(kubectl: Kubectl, lab_image: str, impl: Path | None, external_cluster: bool) -> Iterator[str]:
    """The node agent runs on every node and our plugin is the cluster's only CNI."""
    if external_cluster:
        pytest.exit("the CNI lab inspects nodes with `docker exec`: it runs on the kind cluster only", returncode=2)
    try:
        switch_network(kubectl, lab_image, impl)
        yield lab_image
    finally:
        if impl is not None:  # leave the cluster on the reference plugin, even after a failure
            kubectl.run("delete", "namespace", NS, "--ignore-not-found", "--timeout=60s", timeout=70, check=False)
            switch_network(kubectl, lab_image, None)
            kubectl.run("delete", "namespace", NS, "--ignore-not-found", "--timeout=120s", timeout=130, check=False)


@pytest.fixture(scope="session")
def cluster_nodes(kubectl: Kubectl) -> dict[str, dict[str, str]]:
    return nodes(kubectl)


@pytest.fixture(scope="session")
def workers(cluster_nodes: dict[str, dict[str, str]]) -> list[str]:
    names = sorted(n for n, info in cluster_nodes.items() if info["role"] == "worker")
    assert len(names) >= 2, "the CNI lab needs two worker nodes"
    return names


@pytest.fixture(scope="session")
def namespace(kubectl: Kubectl, cni_network: str) -> Iterator[str]:
    kubectl.run("delete", "namespace", NS, "--ignore-not-found", "--wait=true", timeout=180)
    kubectl.run("create", "namespace", NS)
    yield NS
    kubectl.run("delete", "namespace", NS, "--wait=false", check=False)


@pytest.fixture(scope="session")
def servers(kubectl: Kubectl, namespace: str, cni_network: str, workers: list[str]) -> dict[str, dict[str, Any]]:
    """web-0 and web-0b on the first worker, web-1 on the second; Service `web` selects web-0 only."""
    image = cni_network
    specs = {"web-0": workers[0], "web-0b": workers[0], "web-1": workers[1]}
    objs = [
        pod(
            name,
            image,
            node,
            ["python3", "-c", SERVER],
            restart="Always",
            labels={"app": name, **({"role": "web"} if name == "web-0" else {})},
            ports=[{"containerPort": 8080}],
        )
        for name, node in specs.items()
    ]
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": NS},
        "spec": {"selector": {"role": "web"}, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    apply(kubectl, *objs, service)
    out: dict[str, dict[str, Any]] = {}
    for name, node in specs.items():
        obj = wait_phase(kubectl, name, {"Running"})
        out[name] = {"node": node, "ip": obj["status"]["podIP"], "uid": obj["metadata"]["uid"]}
    out["service"] = {"ip": kubectl.json("-n", NS, "get", "service", "web")["spec"]["clusterIP"]}
    return out
