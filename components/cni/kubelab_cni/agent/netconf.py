"""The node's network configuration, each step idempotent: run it twice, nothing changes.

- ``<cni_conf>/05-kubelab-cni.conflist`` (ours: it sorts before the default ``10-``), and every
  other configuration there renamed to ``*.kubelab-disabled``;
- the default network's address reservations adopted into ours;
- ``net.bridge.bridge-nf-call-ip{,6}tables = 1``;
- the MTU for the pods: the node's, from the link holding its InternalIP.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import socket
from pathlib import Path
from typing import Any

from kubelab_cni.agent.hostpaths import HostPaths
from kubelab_cni.agent.install import PLUGIN
from kubelab_kit.files import atomic_write

log = logging.getLogger("kubelab-cni-agent")

NETWORK = "kubelab"
BRIDGE = "kubelab0"
CONFLIST_NAME = "05-kubelab-cni.conflist"
DISABLED_SUFFIX = ".kubelab-disabled"
CNI_CONFIG_SUFFIXES = (".conf", ".conflist", ".json")
DEFAULT_NETWORK_STORE = "/run/cni-ipam-state/kubelab-default"
IPAM_DATA_DIR = "/var/lib/cni/networks"


def conflist(pod_cidr: str, plugin: str = PLUGIN, mtu: int = 1500) -> dict[str, Any]:
    return {
        "cniVersion": "1.0.0",
        "name": NETWORK,
        "plugins": [
            {
                "type": plugin,
                "bridge": BRIDGE,
                "isGateway": True,
                "isDefaultGateway": True,
                "ipMasq": True,
                "hairpinMode": True,
                "mtu": mtu,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": pod_cidr}]],
                    "dataDir": IPAM_DATA_DIR,
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}, "snat": True},
        ],
    }


def render_conflist(pod_cidr: str, plugin: str = PLUGIN, mtu: int = 1500) -> bytes:
    return (json.dumps(conflist(pod_cidr, plugin, mtu), indent=2) + "\n").encode()


def write_conflist(paths: HostPaths, pod_cidr: str, plugin: str, mtu: int) -> bool:
    """Ours first (``05-`` sorts before the default ``10-``), then every other config disabled."""
    conf_dir = paths.here(paths.cni_conf)
    changed = atomic_write(conf_dir / CONFLIST_NAME, render_conflist(pod_cidr, plugin, mtu), mode=0o644)
    if changed:
        log.info("wrote %s/%s (type %s, podCIDR %s)", paths.cni_conf, CONFLIST_NAME, plugin, pod_cidr)
    for entry in sorted(conf_dir.iterdir()):
        if entry.name != CONFLIST_NAME and entry.name.endswith(CNI_CONFIG_SUFFIXES) and entry.is_file():
            os.replace(entry, entry.with_name(entry.name + DISABLED_SUFFIX))
            log.info("disabled %s/%s (renamed to %s%s)", paths.cni_conf, entry.name, entry.name, DISABLED_SUFFIX)
            changed = True
    return changed


def adopt_default_reservations(paths: HostPaths, pod_cidr: str) -> list[str]:
    """Move the default network's address reservations into ours.

    Pods started on the default network keep their addresses; without this our IPAM would
    hand the same addresses out again. When such a pod goes away, its DEL (through our
    configuration now) releases the adopted reservation like any other.
    """
    from kubelab_cni.ipam.store import Store

    source = paths.here(paths.run) / DEFAULT_NETWORK_STORE.removeprefix("/run/")
    if not source.is_dir():
        return []
    subnet = ipaddress.ip_network(pod_cidr)
    adopted = []
    with Store(IPAM_DATA_DIR, NETWORK).locked() as store:
        for entry in sorted(source.iterdir()):
            try:
                address = ipaddress.ip_address(entry.name)
            except ValueError:
                continue
            if address not in subnet:
                continue
            lines = entry.read_bytes().decode(errors="replace").splitlines()
            container_id = lines[0].strip() if lines else ""
            ifname = lines[1].strip() if len(lines) > 1 else "eth0"
            if store.reserve(address, container_id, ifname):
                adopted.append(str(address))
            entry.unlink()
    if adopted:
        log.info("adopted the default network's reservations: %s", ", ".join(adopted))
    return adopted


def enable_bridge_netfilter() -> None:
    """Bridged pod-to-pod traffic must pass iptables (kube-proxy's Service NAT on one node)."""
    for name in ("bridge-nf-call-iptables", "bridge-nf-call-ip6tables"):
        path = Path("/proc/sys/net/bridge") / name
        if path.exists() and path.read_text().strip() != "1":
            path.write_text("1\n")  # a sysctl: written in place (a rename cannot replace it)
            log.info("set net.bridge.%s = 1", name)


def node_mtu(internal_ip: str) -> int:
    """The MTU of the node's link holding ``internal_ip`` (1500 if none does)."""
    from kubelab_cni.netlink import host

    with host() as ipr:
        for addr in ipr.get_addr(family=socket.AF_INET):
            if addr.get_attr("IFA_ADDRESS") == internal_ip:
                mtu: int = ipr.link("get", index=addr["index"])[0].get_attr("IFLA_MTU")
                return mtu
    return 1500
