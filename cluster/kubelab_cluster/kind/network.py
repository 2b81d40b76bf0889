"""The cluster's default pod network: the reference ptp + host-local CNI plugins,
configured on every node from its ``spec.podCIDR``, plus a route on every node to
every other node's podCIDR (the job kindnetd does in stock kind). The CNI lab's
plugin and node agent replace it.
"""

from __future__ import annotations

import json
import subprocess

from kubelab_cluster.kind.errors import ClusterError
from kubelab_cluster.kind.kubectl import Kubectl

CONFLIST = "/etc/cni/net.d/10-kubelab-default.conflist"


def conflist(pod_cidr: str, mtu: int = 1500) -> str:
    doc = {
        "cniVersion": "1.0.0",
        "name": "kubelab-default",
        "plugins": [
            {
                "type": "ptp",
                "ipMasq": False,
                "mtu": mtu,
                "ipam": {
                    "type": "host-local",
                    "dataDir": "/run/cni-ipam-state",
                    "ranges": [[{"subnet": pod_cidr}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    return json.dumps(doc, indent=2) + "\n"


def nodes_with_cidrs(kubectl: Kubectl) -> list[tuple[str, str, str]]:
    """(name, internal IP, podCIDR) of every node."""
    out = []
    for node in kubectl.json("get", "nodes")["items"]:
        ip = next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")
        out.append((node["metadata"]["name"], ip, node["spec"].get("podCIDR", "")))
    return out


def node_exec(node: str, *cmd: str, stdin: str | None = None) -> None:
    subprocess.run(["docker", "exec", "-i", node, *cmd], input=stdin, text=True, check=True, capture_output=True)


def install_default_network(kubectl: Kubectl, pod_subnet: str) -> list[tuple[str, str, str]]:
    nodes = nodes_with_cidrs(kubectl)
    for name, _ip, cidr in nodes:
        if not cidr:
            raise ClusterError(f"node {name} has no podCIDR (is the controller-manager allocating node CIDRs?)")
        node_exec(name, "sh", "-c", f"cat > {CONFLIST}.tmp && mv {CONFLIST}.tmp {CONFLIST}", stdin=conflist(cidr))
        # Traffic leaving the pod network is masqueraded to the node address.
        rule = [
            "-s",
            pod_subnet,
            "!",
            "-d",
            pod_subnet,
            "-j",
            "MASQUERADE",
            "-m",
            "comment",
            "--comment",
            "kubelab-default-network",
        ]
        check = subprocess.run(
            ["docker", "exec", name, "iptables", "-t", "nat", "-C", "POSTROUTING", *rule],
            capture_output=True,
            check=False,
        )
        if check.returncode != 0:
            node_exec(name, "iptables", "-t", "nat", "-A", "POSTROUTING", *rule)
        for other, other_ip, other_cidr in nodes:
            if other != name:
                node_exec(name, "ip", "route", "replace", other_cidr, "via", other_ip)
    return nodes
