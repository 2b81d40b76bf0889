"""Checkpoints 7, 8 (book 5.3, 5.5): every pod gets an address from its node's podCIDR, recorded in the IPAM store."""

from __future__ import annotations

import ipaddress
from typing import Any

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.nodes import Node

from .cnilab import reservations


def test_07_pod_ips_from_node_cidr(
    kubectl: Kubectl, servers: dict[str, dict[str, Any]], cluster_nodes: dict[str, Node]
) -> None:
    """Each lab pod's IP is inside its node's podCIDR and reserved in that node's store
    (/var/lib/cni/networks/kubelab/<ip>, containing the container ID).

    Hint (5.3, 5.5): the pods' events (`kubectl -n kubelab-cni-lab describe pod web-0`) show the plugin's
    error; ADD (components/cni/kubelab_cni/commands/add.py) must return the address in `ips` of the result
    (the kubelet reads the pod IP from it), reserved by Allocator.allocate (kubelab_cni/ipam/allocator.py,
    ipam/store.py): `docker exec NODE ls /var/lib/cni/networks/kubelab`.
    """
    for name, s in servers.items():
        if name == "service":
            continue
        cidr = ipaddress.ip_network(cluster_nodes[s["node"]].cidr)
        assert ipaddress.ip_address(s["ip"]) in cidr, (name, s["ip"], str(cidr))
        assert s["ip"] in reservations(s["node"]), (name, s["ip"], s["node"])
    ips = [s["ip"] for n, s in servers.items() if n != "service"]
    assert len(set(ips)) == len(ips), ips


def test_08_every_pod_in_its_node_cidr(kubectl: Kubectl, cluster_nodes: dict[str, Node]) -> None:
    """No pod of the cluster (hostNetwork ones aside) has an address outside its node's podCIDR.

    Hint (5.3): `kubectl get pods -A -o wide` against the nodes' podCIDRs
    (`kubectl get nodes -o custom-columns=N:.metadata.name,C:.spec.podCIDR`); a pod outside it still has an
    address from the old network (restart it) or the conflist's ipam range is wrong (conflist in
    components/cni/kubelab_cni/agent/netconf.py).
    """
    bad = []
    for p in kubectl.json("get", "pods", "-A")["items"]:
        if p["spec"].get("hostNetwork") or not p["status"].get("podIP") or not p["spec"].get("nodeName"):
            continue
        cidr = ipaddress.ip_network(cluster_nodes[p["spec"]["nodeName"]].cidr)
        if ipaddress.ip_address(p["status"]["podIP"]) not in cidr:
            bad.append(f"{p['metadata']['namespace']}/{p['metadata']['name']} {p['status']['podIP']} not in {cidr}")
    assert not bad, bad
