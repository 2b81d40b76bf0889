"""The CNI lab's setup: the node agent deployed (reference plugin, or --impl), CoreDNS moved
onto the new network, and a namespace with server pods on both workers.

With ``--impl PATH`` the agent installs the student's plugin instead (see labs/cni/README.md);
at the end the reference plugin is put back, so the cluster stays usable for the other labs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kubelab_cluster.kind.cluster import pod_subnet
from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube, nodes, objects, pods
from kubelab_labkit.impl import Submission
from kubelab_labkit.namespaces import MakeNamespace

from . import cnilab
from .cnilab import NS, SERVER, SYSTEM_NS, deploy_agent, pods_older_than_conflist


def switch_network(kubectl: Kubectl, image: str, plugin: Path | None) -> None:
    """Deploy the agent; then a rolling restart of CoreDNS if it started on the previous network
    (old pods serve until new ones are Ready, so a broken --impl never takes DNS down)."""
    deploy_agent(kubectl, image, pod_subnet(), plugin)
    if pods_older_than_conflist(kubectl, SYSTEM_NS, "k8s-app=kube-dns"):
        kubectl.run("-n", SYSTEM_NS, "rollout", "restart", "deployment/coredns")
        timeout = 120 if plugin is None else 45
        kube.rollout(kubectl, "deployment/coredns", namespace=SYSTEM_NS, timeout=timeout, check=plugin is None)


@pytest.fixture(scope="session")
def cni_network(kubectl: Kubectl, lab_image: str, impl: Submission | None, external_cluster: bool) -> Iterator[str]:
    """The node agent runs on every node and our plugin (or yours, with --impl) is the cluster's only CNI.

    Hint: `kubectl -n kube-system get ds,pods -l app=kubelab-cni-agent -o wide` and
    `kubectl -n kube-system logs ds/kubelab-cni-agent`; with --impl the agent logs how it installed your plugin.
    """
    if external_cluster:
        pytest.exit("the CNI lab inspects nodes with `docker exec`: it runs on the kind cluster only", returncode=2)
    plugin = impl.path if impl is not None else None
    try:
        switch_network(kubectl, lab_image, plugin)
        yield lab_image
    finally:
        if plugin is not None:  # leave the cluster on the reference plugin, even after a failure
            kubectl.run("delete", "namespace", NS, "--ignore-not-found", "--timeout=60s", timeout=70, check=False)
            switch_network(kubectl, lab_image, None)
            kubectl.run("delete", "namespace", NS, "--ignore-not-found", "--timeout=120s", timeout=130, check=False)


@pytest.fixture(scope="session")
def cluster_nodes(kubectl: Kubectl) -> dict[str, nodes.Node]:
    return nodes.nodes(kubectl)


@pytest.fixture(scope="session")
def workers(kubectl: Kubectl) -> list[str]:
    return nodes.workers(kubectl)


@pytest.fixture(scope="session")
def namespace(make_namespace: MakeNamespace, cni_network: str) -> str:
    """The lab's namespace, made once pods get our network."""
    return make_namespace(NS)


@pytest.fixture(scope="session")
def servers(kubectl: Kubectl, namespace: str, cni_network: str, workers: list[str]) -> dict[str, dict[str, Any]]:
    """web-0 and web-0b on the first worker, web-1 on the second; Service `web` selects web-0 only.

    Hint: pods that stay ContainerCreating mean the plugin's ADD fails: `kubectl -n kubelab-cni-lab describe pod web-0`
    shows the runtime's error (your plugin's CNI error JSON, msg and details).
    """
    specs = {"web-0": workers[0], "web-0b": workers[0], "web-1": workers[1]}
    objs = [
        pods.pod(
            name,
            namespace,
            cni_network,
            ["python3", "-c", SERVER],
            node=node,
            restart="Always",
            labels={"app": name, **({"role": "web"} if name == "web-0" else {})},
            ports=[{"containerPort": 8080}],
        )
        for name, node in specs.items()
    ]
    kube.apply(kubectl, *objs, objects.service("web", namespace, {"role": "web"}, [(80, 8080)]))
    out: dict[str, dict[str, Any]] = {}
    for name, node in specs.items():
        obj = pods.wait_phase(kubectl, namespace, name, {"Running"}, timeout=90)
        out[name] = {"node": node, "ip": obj["status"]["podIP"], "uid": obj["metadata"]["uid"]}
    out["service"] = {"ip": kubectl.json("-n", namespace, "get", "service", "web")["spec"]["clusterIP"]}
    return out


@dataclass(frozen=True)
class ByHand:
    node: str
    netns: str  # its path, CNI_NETNS
    container_id: str
    conf: dict[str, Any]


@pytest.fixture
def by_hand(cni_network: str, workers: list[str], request: pytest.FixtureRequest) -> Iterator[ByHand]:
    """A network namespace on the first worker and the node's plugin configuration on a network of its
    own (kubelab-by-hand, 10.250.0.0/24, bridge kubelabhand0): the plugin called as a runtime calls it,
    touching no pod of the cluster. Everything is removed afterwards (DEL, the namespace, the bridge).

    Hint (5.2): run the same by hand: `docker exec -i -e CNI_COMMAND=VERSION kubelab-worker
    /opt/cni/bin/kubelab-cni <<< '{"cniVersion":"1.1.0"}'` (the guide shows ADD, CHECK, DEL).
    """
    node = workers[0]
    name = f"kubelab-{request.node.name.split('_')[1]}"
    netns = f"/var/run/netns/{name}"
    cnilab.remove_by_hand_network(node, name)
    nodes.node_sh(node, f"ip netns add {name}")
    conf = cnilab.by_hand_network(node)
    attachment = ByHand(node, netns, f"kubelab-by-hand-{name}", conf)
    try:
        yield attachment
    finally:
        cnilab.plugin_call(node, "DEL", conf, attachment.container_id, netns)
        cnilab.remove_by_hand_network(node, name)
