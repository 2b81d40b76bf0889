"""Checkpoints 10 to 13 (book 5.3): pods reach each other on one node and across nodes, Services and DNS work."""

from __future__ import annotations

from typing import Any

from kubelab_cluster.kind.kubectl import Kubectl

from .cnilab import exec_in, fetch_code


def test_10_pod_to_pod_same_node(kubectl: Kubectl, servers: dict[str, dict[str, Any]]) -> None:
    """web-0b reaches web-0 (same node, through the bridge) by its pod IP.

    Hint (5.3): both veths must be attached to the bridge and up; `docker exec NODE ip -d link show master
    kubelab0`. ADD creates and attaches them: veth.create and veth.attach in components/cni/kubelab_cni/veth.py,
    ensure_bridge in kubelab_cni/bridge.py.
    """
    out = exec_in(kubectl, "web-0b", fetch_code(f"http://{servers['web-0']['ip']}:8080/"))
    assert out.split()[0] == "web-0", out


def test_11_pod_to_pod_across_nodes(kubectl: Kubectl, servers: dict[str, dict[str, Any]]) -> None:
    """web-1 (second worker) reaches web-0 (first worker) by its pod IP.

    Hint (5.3): the pod's default route must point at the bridge's gateway address (the result's `routes`,
    _configure_container in components/cni/kubelab_cni/commands/add.py; ensure_gateway in bridge.py), and
    the node must route the other node's podCIDR via its InternalIP (`docker exec NODE ip route`,
    sync_routes in kubelab_cni/agent/routes.py).
    """
    out = exec_in(kubectl, "web-1", fetch_code(f"http://{servers['web-0']['ip']}:8080/"))
    assert out.split()[0] == "web-0", out


def test_12_service_through_kube_proxy(kubectl: Kubectl, servers: dict[str, dict[str, Any]]) -> None:
    """The ClusterIP Service `web` (backend web-0) answers from another node and from the backend's node.

    Hint (5.3): kube-proxy's DNAT must see bridged traffic: net.bridge.bridge-nf-call-iptables=1 on the node
    (enable_bridge_netfilter in components/cni/kubelab_cni/agent/netconf.py; `docker exec NODE sysctl
    net.bridge.bridge-nf-call-iptables`); `docker exec NODE iptables-save -t nat | grep kubelab-cni-lab/web`.
    """
    url = f"http://{servers['service']['ip']}/"
    for client in ("web-1", "web-0b"):
        out = exec_in(kubectl, client, fetch_code(url))
        assert out.split()[0] == "web-0", (client, out)


def test_13_dns(kubectl: Kubectl, servers: dict[str, dict[str, Any]]) -> None:
    """CoreDNS (on the control plane, on our network) resolves kubernetes.default.svc.cluster.local.

    Hint (5.3): `kubectl -n kube-system logs deploy/coredns`; the DNS Service's backends must be reachable
    across nodes (`kubectl -n kube-system get endpointslices -l kubernetes.io/service-name=kube-dns`, and
    checkpoints 11 and 12 for the routes and kube-proxy).
    """
    expected = kubectl.json("get", "service", "kubernetes")["spec"]["clusterIP"]
    out = exec_in(
        kubectl, "web-1", "import socket; print(socket.gethostbyname('kubernetes.default.svc.cluster.local'))"
    )
    assert out.strip() == expected, out
