"""Routes to the other nodes' pods: one per other node, its podCIDR via its InternalIP (the job
kindnetd does), marked with the agent's route protocol (``ip route show proto 75`` lists them).
A gateway route inside the cluster CIDR to no current node is removed; routes outside the
cluster CIDR are never touched. Idempotent: a sync with nothing changed sends no change.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterable

from kubelab_cni.agent.nodeinfo import NodeInfo

log = logging.getLogger("kubelab-cni-agent")

ROUTE_PROTO = 0x4B  # "kubelab": marks the routes this agent owns (ip route shows `proto 75`)
RT_TABLE_MAIN = 254


def sync_routes(own: str, nodes: Iterable[NodeInfo], cluster_cidr: str) -> list[str]:
    """One route per other node: its podCIDR via its InternalIP; routes to departed nodes removed."""
    from kubelab_cni.netlink import host

    cluster = ipaddress.ip_network(cluster_cidr)
    desired = {
        ipaddress.ip_network(n.pod_cidr): n.internal_ip
        for n in nodes
        if n.name != own and n.pod_cidr and n.internal_ip and ":" not in n.pod_cidr
    }
    changes: list[str] = []
    with host() as ipr:
        present: dict[ipaddress.IPv4Network | ipaddress.IPv6Network, tuple[str | None, int]] = {}
        for r in ipr.get_routes(family=socket.AF_INET, table=RT_TABLE_MAIN):
            dst = r.get_attr("RTA_DST")
            if dst is None:
                continue
            net = ipaddress.ip_network(f"{dst}/{r['dst_len']}")
            present[net] = (r.get_attr("RTA_GATEWAY"), r["proto"])
        for net, gw in sorted(desired.items(), key=lambda kv: str(kv[0])):
            if present.get(net) == (gw, ROUTE_PROTO):
                continue
            ipr.route("replace", dst=str(net), gateway=gw, proto=ROUTE_PROTO, table=RT_TABLE_MAIN)
            changes.append(f"{net} via {gw}")
        for net, (via, _proto) in present.items():
            if via and net.version == cluster.version and net.subnet_of(cluster) and net not in desired:  # type: ignore[arg-type]
                ipr.route("del", dst=str(net), gateway=via, table=RT_TABLE_MAIN)
                changes.append(f"{net} via {via} removed")
    for c in changes:
        log.info("route %s", c)
    return changes
