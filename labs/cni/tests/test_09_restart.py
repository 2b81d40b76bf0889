"""Checkpoint 17 (book 5.2, 5.6): restarting the node agent changes nothing, and pods keep working."""

from __future__ import annotations

import time
from typing import Any

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import pods
from kubelab_labkit.nodes import Node, node_sh

from .cnilab import AGENT, CONFLIST, NS, SYSTEM_NS, agent_pods, exec_in, fetch_code, routes


def _node_state(node: str) -> dict[str, Any]:
    return {
        "conflist": node_sh(node, f"sha256sum {CONFLIST}"),
        "configs": node_sh(node, "ls -1 /etc/cni/net.d"),
        "plugins": node_sh(node, "cd /opt/cni/bin && sha256sum kubelab-*"),
        "site-packages": node_sh(node, "readlink /opt/kubelab-cni/site-packages", check=False),
        "routes": routes(node),
    }


def test_17_agent_restart_changes_nothing(
    kubectl: Kubectl, servers: dict[str, dict[str, Any]], cluster_nodes: dict[str, Node]
) -> None:
    """Delete every agent pod; the new ones leave conflist, plugin files and routes byte for byte as
    they were, pods keep their IPs and keep talking across nodes, and a new pod still gets an address.

    Hint (5.2): every start-up step must be idempotent (write only when the content differs, `ip route
    replace`): Agent.install and Agent.run in components/cni/kubelab_cni/agent/main.py, write_conflist in
    agent/netconf.py, install_plugin in agent/install.py, sync_routes in agent/routes.py;
    `kubectl -n kube-system logs ds/kubelab-cni-agent` should show no "wrote"/"route" line on a restart.
    """
    before = {n: _node_state(n) for n in cluster_nodes}
    old = {p["metadata"]["uid"] for p in agent_pods(kubectl)}
    kubectl.run("-n", SYSTEM_NS, "delete", "pod", "-l", f"app={AGENT}", "--wait=false")
    deadline = time.monotonic() + 120
    while True:
        agents = agent_pods(kubectl)
        fresh = [p for p in agents if p["metadata"]["uid"] not in old]
        ready = [p for p in fresh if all(s.get("ready") for s in p["status"].get("containerStatuses", [{}]))]
        if len(ready) == len(cluster_nodes) and len(agents) == len(cluster_nodes):
            break
        assert time.monotonic() < deadline, f"{len(ready)} of {len(cluster_nodes)} new agent pods Ready"
        time.sleep(1)
    after = {n: _node_state(n) for n in cluster_nodes}
    for n in cluster_nodes:
        assert after[n] == before[n], (n, before[n], after[n])
    for name in ("web-0", "web-0b", "web-1"):
        obj = kubectl.json("-n", NS, "get", "pod", name)
        assert obj["metadata"]["uid"] == servers[name]["uid"] and obj["status"]["podIP"] == servers[name]["ip"]
    out = exec_in(kubectl, "web-1", fetch_code(f"http://{servers['web-0']['ip']}:8080/"))
    assert out.split()[0] == "web-0", out
    node = servers["web-1"]["node"]
    code = fetch_code(f"http://{servers['web-0']['ip']}:8080/")
    out = pods.run_to_completion(kubectl, NS, "after-restart", servers_image(kubectl), node, code)
    assert out.split()[0] == "web-0", out


def servers_image(kubectl: Kubectl) -> str:
    image: str = kubectl.json("-n", NS, "get", "pod", "web-0")["spec"]["containers"][0]["image"]
    return image
