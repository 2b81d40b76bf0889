"""Pods for the runtime's tests: a CNI network of the reference plugins (ptp + host-local +
portmap, from the toolchain) in a directory of the test's, sandbox configurations as the
kubelet sends them, and what to look at on the host afterwards (namespaces, NAT rules, leases)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from kubelab_cluster.pins import pins
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.build import build
from kubelab_cri.runtime.sandboxes import NETNS_PREFIX
from kubelab_kit.cni import NETNS_DIR
from kubelab_protos.gen.cri.v1 import api_pb2

SUBNET = "10.250.77.0/24"


def cni_bin_dir() -> Path:
    return build(BY_NAME["cni-plugins"], pins()).binaries["ptp"].parent


def conflist(tmp: Path, extra: list[dict[str, Any]] | None = None) -> Path:
    conf_dir = tmp / "net.d"
    conf_dir.mkdir(exist_ok=True)
    ipam = {"type": "host-local", "ranges": [[{"subnet": SUBNET}]], "dataDir": str(tmp / "ipam")}
    plugins = [
        {"type": "ptp", "ipMasq": False, "ipam": ipam},
        {"type": "portmap", "capabilities": {"portMappings": True}},
        *(extra or []),
    ]
    (conf_dir / "10-test.conflist").write_text(json.dumps({"cniVersion": "1.0.0", "name": "crit", "plugins": plugins}))
    return conf_dir


def config(name: str, **labels: str) -> api_pb2.PodSandboxConfig:
    return api_pb2.PodSandboxConfig(
        metadata=api_pb2.PodSandboxMetadata(name=name, namespace="default", uid=f"uid-{name}", attempt=0),
        labels={"app": name, **labels},
        annotations={"kubelab.dev/test": "yes"},
        port_mappings=[api_pb2.PortMapping(protocol=api_pb2.TCP, container_port=80, host_port=18080)],
    )


def our_netns() -> set[str]:
    return {n for n in os.listdir(NETNS_DIR) if n.startswith(NETNS_PREFIX)} if os.path.isdir(NETNS_DIR) else set()


def nat_rules() -> str:
    return subprocess.run(["iptables-save", "-t", "nat"], capture_output=True, text=True, check=True).stdout


def reserved(tmp: Path) -> list[str]:
    folder = tmp / "ipam" / "crit"
    return sorted(p.name for p in folder.iterdir() if p.name[0].isdigit()) if folder.is_dir() else []
