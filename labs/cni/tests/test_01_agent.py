"""Checkpoints 1 to 4 (book 5.1, 5.4): the node agent runs everywhere and our configuration is the only CNI."""

from __future__ import annotations

import json

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.nodes import Node, node_sh

from .cnilab import AGENT, CONFLIST, SYSTEM_NS, active_cni_configs, agent_pods, routes


def test_01_agent_on_every_node(kubectl: Kubectl, cni_network: str, cluster_nodes: dict[str, Node]) -> None:
    """The agent DaemonSet has one Ready pod on each of the 3 nodes.

    Hint (5.1): `kubectl -n kube-system get ds,pods -l app=kubelab-cni-agent -o wide`, then
    `kubectl -n kube-system logs ds/kubelab-cni-agent` (the agent logs each step it takes: Agent.run in
    components/cni/kubelab_cni/agent/main.py); the DaemonSet is components/cni/deploy/agent.yaml.
    """
    ds = kubectl.json("-n", SYSTEM_NS, "get", "daemonset", AGENT)["status"]
    assert ds.get("numberReady") == len(cluster_nodes) == ds.get("desiredNumberScheduled"), ds
    ready_on = {
        p["spec"]["nodeName"]
        for p in agent_pods(kubectl)
        if all(s.get("ready") for s in p["status"].get("containerStatuses", [{}]))
    }
    assert ready_on == set(cluster_nodes), f"agent Ready on {sorted(ready_on)}, nodes {sorted(cluster_nodes)}"


def test_02_only_our_conflist(cni_network: str, cluster_nodes: dict[str, Node]) -> None:
    """On every node /etc/cni/net.d holds exactly one active configuration: 05-kubelab-cni.conflist,
    with our plugin first (host-local IPAM on the node's podCIDR, ipMasq) and portmap chained after it.

    Hint (5.1, 5.4): `docker exec NODE ls /etc/cni/net.d` and `docker exec NODE cat
    /etc/cni/net.d/05-kubelab-cni.conflist`; other files must be renamed (*.kubelab-disabled) or removed,
    since the runtime uses the first configuration in name order. The agent writes it with conflist and
    write_conflist in components/cni/kubelab_cni/agent/netconf.py, the plugin with install_plugin in
    agent/install.py (`docker exec NODE ls -l /opt/cni/bin`).
    """
    for name, info in cluster_nodes.items():
        assert active_cni_configs(name) == [CONFLIST.rsplit("/", 1)[1]], (name, active_cni_configs(name))
        doc = json.loads(node_sh(name, f"cat {CONFLIST}"))
        types = [p["type"] for p in doc["plugins"]]
        assert types[-1] == "portmap" and len(types) == 2, types
        ours = doc["plugins"][0]
        assert ours["ipam"]["ranges"] == [[{"subnet": info.cidr}]], (name, ours["ipam"])
        assert ours["ipMasq"] is True
        assert node_sh(name, f"test -x /opt/cni/bin/{types[0]} && echo ok").strip() == "ok", f"{name}: no binary"


def test_03_routes_to_every_other_node(cni_network: str, cluster_nodes: dict[str, Node]) -> None:
    """Each node routes every other node's podCIDR via that node's InternalIP (route protocol 75, the agent's).

    Hint (5.1): `docker exec NODE ip route show proto 75`; the agent watches nodes (RBAC: list/watch nodes):
    NodeWatcher in components/cni/kubelab_cni/agent/nodewatch.py feeds sync_routes in agent/routes.py;
    `kubectl -n kube-system logs ds/kubelab-cni-agent | grep route`.
    """
    for name in cluster_nodes:
        expected = sorted(
            f"{info.cidr} via {info.ip} dev eth0" for other, info in cluster_nodes.items() if other != name
        )
        got = [" ".join(r.split()[:5]) for r in routes(name)]
        assert got == expected, (name, got)


def test_04_coredns_on_our_network(kubectl: Kubectl, cni_network: str) -> None:
    """CoreDNS was restarted after the switch and runs with an address from our plugin.

    Hint (5.1): the lab restarts CoreDNS pods older than the node's conflist (switch_network in
    labs/cni/tests/conftest.py); `kubectl -n kube-system get pods -l k8s-app=kube-dns -o wide` and
    `describe` them: a FailedCreatePodSandBox event carries the plugin's error from ADD
    (components/cni/kubelab_cni/commands/add.py).
    """
    from .cnilab import reservations

    pods = kubectl.json("-n", SYSTEM_NS, "get", "pods", "-l", "k8s-app=kube-dns")["items"]
    pods = [p for p in pods if "deletionTimestamp" not in p["metadata"]]  # old ones on their way out
    assert pods
    for p in pods:
        statuses = p["status"].get("containerStatuses", [])
        if not (statuses and all(s.get("ready") for s in statuses)):
            name = p["metadata"]["name"]
            events = kubectl.run(
                "-n", SYSTEM_NS, "get", "events", "--field-selector", f"involvedObject.name={name}",
                "-o", "custom-columns=REASON:.reason,MESSAGE:.message", check=False,
            )  # fmt: skip
            raise AssertionError(f"{name} is {p['status'].get('phase')}, not Ready; its events:\n{events[-1500:]}")
        ip, node = p["status"]["podIP"], p["spec"]["nodeName"]
        assert ip in reservations(node), f"{p['metadata']['name']} {ip} is not in {node}'s IPAM store"
