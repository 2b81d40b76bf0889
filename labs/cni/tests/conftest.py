"""The CNI lab's setup: the node agent deployed with the graded plugin (the lab's [impl] reference,
components/cni/kubelab_cni, or --impl PATH: both installed the same way), CoreDNS moved onto it,
a namespace with server pods on both workers, and the by-hand networks of 5.2, 5.3 and 5.5.

At the end the agent goes back to the platform's plugin (kubelab-cni with its daemon, no --impl
archive), so the cluster stays as every other lab expects it (see labs/cni/README.md).
"""

from __future__ import annotations

import time
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


def switch_network(kubectl: Kubectl, image: str, plugin: Path | None, reference: bool = True) -> None:
    """Deploy the agent (installing ``plugin``, or the reference with no archive); then a rolling restart
    of CoreDNS if it started on the previous network (old pods serve until new ones are Ready, so a
    broken --impl never takes DNS down). A student's plugin gets 45 s and no failure here: checkpoint 5
    reports what keeps CoreDNS from starting."""
    deploy_agent(kubectl, image, pod_subnet(), plugin)
    if pods_older_than_conflist(kubectl, SYSTEM_NS, "k8s-app=kube-dns"):
        kubectl.run("-n", SYSTEM_NS, "rollout", "restart", "deployment/coredns")
        timeout = 120 if reference else 45
        kube.rollout(kubectl, "deployment/coredns", namespace=SYSTEM_NS, timeout=timeout, check=reference)


def restore_platform_network(kubectl: Kubectl, image: str, restart_dns: bool) -> str:
    """Back to what every other lab runs on: the agent with no --impl archive (``kubelab-cni``, its daemon).

    The lab's pods go first, while the graded plugin still answers their DEL. ``restart_dns``: CoreDNS
    moves onto the platform's plugin (after a student's plugin, whose attachments the platform's cannot be
    trusted to know); the reference's attachments are the platform's own (same bridge, store and veth
    names), so after grading the reference its CoreDNS pods stay. Returns how long each step took.
    """
    steps, started = [], time.monotonic()

    def step(what: str) -> None:
        nonlocal started
        steps.append(f"{what} {time.monotonic() - started:.1f} s")
        started = time.monotonic()

    kubectl.run("delete", "namespace", NS, "--ignore-not-found", "--timeout=60s", timeout=70, check=False)
    step("lab pods")
    deploy_agent(kubectl, image, pod_subnet(), None)
    step("agent")
    if restart_dns and pods_older_than_conflist(kubectl, SYSTEM_NS, "k8s-app=kube-dns"):
        kubectl.run("-n", SYSTEM_NS, "rollout", "restart", "deployment/coredns")
        kube.rollout(kubectl, "deployment/coredns", namespace=SYSTEM_NS, timeout=120)
        step("CoreDNS")
    kubectl.run("delete", "namespace", NS, "--ignore-not-found", "--timeout=120s", timeout=130, check=False)
    return ", ".join(steps)


@pytest.fixture(scope="session")
def cni_network(kubectl: Kubectl, lab_image: str, impl: Submission | None, external_cluster: bool) -> Iterator[str]:
    """The node agent runs on every node and installs the graded plugin as the cluster's only CNI: the
    lab's [impl] reference (components/cni/kubelab_cni, run as `python3 -m kubelab_cni`) or yours
    (--impl), both the same way, as /opt/cni/bin/kubelab-student. At the end the agent goes back to the
    platform's plugin (kubelab-cni), which every other lab runs on.

    Hint: `kubectl -n kube-system get ds,pods -l app=kubelab-cni-agent -o wide` and
    `kubectl -n kube-system logs ds/kubelab-cni-agent`; the agent logs how it installed your plugin.
    """
    if external_cluster:
        pytest.exit("the CNI lab inspects nodes with `docker exec`: it runs on the kind cluster only", returncode=2)
    plugin = impl.path if impl is not None else None
    reference = impl is None or impl.reference
    try:
        switch_network(kubectl, lab_image, plugin, reference)
        yield lab_image
    finally:
        if plugin is not None:  # even after a failure
            started = time.monotonic()
            steps = restore_platform_network(kubectl, lab_image, restart_dns=not reference)
            print(f"\ncni lab: back on the platform's network in {time.monotonic() - started:.1f} s ({steps})")


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
    /opt/cni/bin/kubelab-student <<< '{"cniVersion":"1.1.0"}'` (the conflist's "type" names the file:
    kubelab-student is the graded plugin; the guide shows ADD, CHECK, DEL).
    """
    node = workers[0]
    name = f"kubelab-{request.node.name.split('_')[1]}"
    netns = f"/var/run/netns/{name}"
    conf = cnilab.by_hand_network(node)
    cnilab.remove_by_hand_network(node, conf, [name])
    nodes.node_sh(node, f"ip netns add {name}")
    attachment = ByHand(node, netns, f"kubelab-by-hand-{name}", conf)
    try:
        yield attachment
    finally:
        cnilab.plugin_call(node, "DEL", conf, attachment.container_id, netns)
        cnilab.remove_by_hand_network(node, conf, [name])


IPAM_NETWORK = "kubelab-ipam"
IPAM_BRIDGE = "kubelabipam0"
IPAM_SUBNET = "10.250.1.0/29"  # .1 the gateway, .2 to .6 to hand out: 5 addresses
IPAM_ATTACHMENTS = 6  # one more than the range holds


@dataclass(frozen=True)
class IpamNetwork:
    node: str
    conf: dict[str, Any]
    netns: list[str]  # paths, one per attachment
    container_ids: list[str]


@pytest.fixture
def ipam_network(cni_network: str, workers: list[str]) -> Iterator[IpamNetwork]:
    """A network of its own on the first worker with a tiny range (kubelab-ipam, 10.250.1.0/29, bridge
    kubelabipam0, an empty store) and 6 network namespaces to attach; all removed afterwards.

    Hint (5.5): the store is `docker exec kubelab-worker ls -l /var/lib/cni/networks/kubelab-ipam`
    while the checkpoint runs (`-s` prints each step).
    """
    node = workers[0]
    names = [f"kubelab-ipam-{i}" for i in range(IPAM_ATTACHMENTS)]
    conf = cnilab.by_hand_network(node, IPAM_NETWORK, IPAM_BRIDGE, IPAM_SUBNET)
    cnilab.remove_by_hand_network(node, conf, names)
    nodes.node_sh(node, "; ".join(f"ip netns add {n}" for n in names))
    network = IpamNetwork(node, conf, [f"/var/run/netns/{n}" for n in names], [f"{n}-id" for n in names])
    try:
        yield network
    finally:
        for cid, netns in zip(network.container_ids, network.netns, strict=True):
            cnilab.plugin_call(node, "DEL", conf, cid, netns)
        cnilab.remove_by_hand_network(node, conf, names)
