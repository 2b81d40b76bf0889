"""Checkpoints 8, 9 (book 5.3, 5.5): every pod gets an address from its node's podCIDR, recorded in the IPAM store."""

from __future__ import annotations

import ipaddress
from typing import Any

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.nodes import Node

from .cnilab import plugin_conf, read_store, sandboxes, store_dir


def test_08_pod_ips_from_node_cidr(
    kubectl: Kubectl, servers: dict[str, dict[str, Any]], cluster_nodes: dict[str, Node]
) -> None:
    """Each lab pod's IP is inside its node's podCIDR, never the gateway, and reserved in that node's store
    as host-local lays it out: the file <dataDir>/<network>/<ip> holds the pod sandbox's ID (the ADD's
    CNI_CONTAINERID) and eth0, and last_reserved_ip.0 names an address of the range.

    Hint (5.3, 5.5): the pods' events (`kubectl -n kubelab-cni-lab describe pod web-0`) show the plugin's
    error; ADD must return the address in `ips` of the result (the kubelet reads the pod IP from it),
    reserved by the allocator (the starter's allocate in student_cni/ipam.py; the reference's
    kubelab_cni/ipam/allocator.py, ipam/store.py): `docker exec NODE sh -c 'cd /var/lib/cni/networks/kubelab
    && ls && cat -A 10.244.1.2'` shows `<containerID>^M$` then `eth0`; `docker exec NODE crictl pods
    --name web-0 -q --no-trunc` is the ID.
    """
    by_node: dict[str, list[str]] = {}
    for name, s in servers.items():
        if name != "service":
            by_node.setdefault(s["node"], []).append(name)
    for node, names in by_node.items():
        conf = plugin_conf(node)
        store = read_store(node, store_dir(conf))
        cidr = ipaddress.ip_network(cluster_nodes[node].cidr)
        live = {sb.uid: sb for sb in sandboxes(node).values()}
        for name in names:
            ip, sandbox = servers[name]["ip"], live.get(servers[name]["uid"])
            assert ipaddress.ip_address(ip) in cidr, (name, ip, str(cidr))
            assert ip != str(cidr.network_address + 1), f"{name} got the gateway address {ip}"
            assert sandbox is not None, f"{name}: no Ready pod sandbox on {node} (crictl pods)"
            assert ip in store.raw, f"{name} {ip} is not reserved in {store.directory} on {node}: {sorted(store.raw)}"
            assert store.entries[ip] == (sandbox.id, "eth0"), (
                f"{store.directory}/{ip} on {node} holds {store.raw[ip]!r}, not {sandbox.id!r} and 'eth0' "
                "(<containerID>\\r\\n<ifname>)"
            )
        gateway = str(cidr.network_address + 1)
        assert gateway not in store.raw, f"the gateway {gateway} is reserved in {store.directory} on {node}"
        last = store.last_reserved
        assert last is not None, f"no last_reserved_ip.0 in {store.directory} on {node}"
        assert ipaddress.ip_address(last) in cidr, f"last_reserved_ip.0 on {node} holds {last!r}, not in {cidr}"
    ips = [s["ip"] for n, s in servers.items() if n != "service"]
    assert len(set(ips)) == len(ips), ips


def test_09_every_pod_in_its_node_cidr(kubectl: Kubectl, cluster_nodes: dict[str, Node]) -> None:
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
