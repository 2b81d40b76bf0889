"""What only the kubelet lab's patched-kubelet checkpoints need: the kubelet built from patched source
(the toolchain's kubelet-kubelab, kubelet-plugins/kubelet-patch) swapped into the swappable worker and
back, the file its patch reads, and the node's capacity and conditions as the API server has them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from kubelab_cluster.kind.cluster import SWAPPED_ORIGINALS
from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_cluster.pins import pins
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.build import build
from kubelab_labkit.nodes import node_sh
from kubelab_labkit.waiting import eventually

ARTIFACT = "kubelet-kubelab"
KUBELET = "/usr/bin/kubelet"
SAVED = f"{SWAPPED_ORIGINALS}/kubelet"
CONFIG = "/var/lib/kubelet/kubelab.json"  # what the patch reads (kubelet-plugins/kubelet-patch/kubelab.go)
CONDITION = "KubelabHealthy"


def patched_binary() -> Path:
    """The patched kubelet (a cached no-op once built: `kubelab-toolchain build kubelet-kubelab`)."""
    return Path(build(BY_NAME[ARTIFACT], pins()).binaries["kubelet"])


def patched_version() -> str:
    return pins().kubernetes.version + BY_NAME[ARTIFACT].version_suffix


def swap_in(node: str, binary: Path) -> None:
    """The original kubelet kept in SWAPPED_ORIGINALS (the cluster's health check reports a leftover),
    the patched one in its place, the kubelet restarted."""
    node_sh(node, f"mkdir -p {SWAPPED_ORIGINALS} && {{ test -f {SAVED} || cp -p {KUBELET} {SAVED}; }}")
    subprocess.run(["docker", "cp", str(binary), f"{node}:{KUBELET}.kubelab"], check=True, capture_output=True)
    node_sh(node, f"chmod 0755 {KUBELET}.kubelab && mv -f {KUBELET}.kubelab {KUBELET} && systemctl restart kubelet")


def swap_back(node: str) -> None:
    """The patch's file goes, the original kubelet comes back and restarts; nothing left in SWAPPED_ORIGINALS."""
    node_sh(node, f"rm -f {CONFIG}; if test -f {SAVED}; then cp -p {SAVED} {KUBELET}.orig && mv -f {KUBELET}.orig "
            f"{KUBELET} && rm -f {SAVED}; fi; rmdir {SWAPPED_ORIGINALS} 2>/dev/null; systemctl restart kubelet",
            check=False)  # fmt: skip


def write_config(node: str, doc: dict[str, Any] | str) -> None:
    """The patch's file on the node, written whole (a temporary file renamed)."""
    text = doc if isinstance(doc, str) else json.dumps(doc)
    subprocess.run(["docker", "exec", "-i", node, "sh", "-c", f"cat > {CONFIG}.tmp && mv -f {CONFIG}.tmp {CONFIG}"],
                   input=text, text=True, check=True, capture_output=True)  # fmt: skip


def remove_config(node: str) -> None:
    node_sh(node, f"rm -f {CONFIG}")


def node_status(kubectl: Kubectl, node: str) -> dict[str, Any]:
    status: dict[str, Any] = kubectl.json("get", "node", node)["status"]
    return status


def wait_ready_on(kubectl: Kubectl, node: str, version: str, timeout: float = 180) -> None:
    """Until the node's kubelet reports ``version`` and the node is Ready."""

    def ready() -> bool:
        status = node_status(kubectl, node)
        conditions = {c["type"]: c["status"] for c in status["conditions"]}
        assert status["nodeInfo"]["kubeletVersion"] == version, (
            f"{node}'s kubelet is {status['nodeInfo']['kubeletVersion']}"
        )
        assert conditions.get("Ready") == "True", f"{node}: conditions {conditions}"
        return True

    eventually(ready, timeout=timeout, interval=1, what=f"{node} Ready with kubelet {version}")


def condition(kubectl: Kubectl, node: str) -> dict[str, Any] | None:
    return next((c for c in node_status(kubectl, node)["conditions"] if c["type"] == CONDITION), None)


def milli_cpu(q: str) -> int:
    return int(q[:-1]) if q.endswith("m") else int(float(q) * 1000)


BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def bytes_of(q: str) -> int:
    for suffix, factor in BINARY.items():
        if q.endswith(suffix):
            return int(q[: -len(suffix)]) * factor
    return int(q)


def drop_condition(kubectl: Kubectl, node: str) -> None:
    """Remove KubelabHealthy from the node's status: an upstream kubelet keeps conditions it does not
    know, so one the patched kubelet set would stay after the swap back."""
    conditions = node_status(kubectl, node)["conditions"]
    at = next((i for i, c in enumerate(conditions) if c["type"] == CONDITION), None)
    if at is not None:
        patch = json.dumps([{"op": "test", "path": f"/status/conditions/{at}/type", "value": CONDITION},
                            {"op": "remove", "path": f"/status/conditions/{at}"}])  # fmt: skip
        kubectl.run("patch", "node", node, "--subresource=status", "--type=json", "-p", patch)
