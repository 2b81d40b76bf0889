"""Checkpoint 14 (book 5.4): a hostPort works through the reference portmap plugin chained after ours."""

from __future__ import annotations

from typing import Any

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube, pods
from kubelab_labkit.nodes import Node, node_python

from .cnilab import NS, SERVER, exec_in, fetch_code

HOST_PORT = 18080


def test_14_host_port(
    kubectl: Kubectl,
    servers: dict[str, dict[str, Any]],
    workers: list[str],
    cluster_nodes: dict[str, Node],
    cni_network: str,
) -> None:
    """A pod with hostPort 18080 on the first worker answers on that node's IP, from a pod on the
    second worker and from the second worker's host network.

    Hint (5.4): portmap gets the mappings as runtimeConfig.portMappings and needs our result as prevResult
    (with the container interface and its IP): `docker exec NODE iptables-save -t nat | grep CNI-HOSTPORT`.
    The chain is the conflist's second plugin (conflist in components/cni/kubelab_cni/agent/netconf.py);
    the result is built in kubelab_cni/commands/add.py and kubelab_cni/result.py.
    """
    hp = pods.pod(
        "hostport", NS, cni_network, ["python3", "-c", SERVER], node=workers[0],
        restart="Always", ports=[{"containerPort": 8080, "hostPort": HOST_PORT}],
    )  # fmt: skip
    kube.apply(kubectl, hp)
    pods.wait_phase(kubectl, NS, "hostport", {"Running"}, timeout=90)
    url = f"http://{cluster_nodes[workers[0]].ip}:{HOST_PORT}/"
    out = exec_in(kubectl, "web-1", fetch_code(url))
    assert out.split()[0] == "hostport", out
    out = node_python(workers[1], fetch_code(url))
    assert out.split()[0] == "hostport", out
