"""The cluster's nodes, and running a command inside one (each kind node is a container)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from kubelab_cluster.kind.kubectl import Kubectl

CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"
SWAPPABLE_LABEL = "kubelab.dev/swappable"  # the worker whose runtime or kubelet a lab may swap (cluster/kind.yaml)


@dataclass(frozen=True)
class Node:
    name: str
    ip: str  # InternalIP
    cidr: str  # spec.podCIDR ("" until assigned)
    role: str  # "control-plane" or "worker"


def nodes(kubectl: Kubectl) -> dict[str, Node]:
    out = {}
    for n in kubectl.json("get", "nodes")["items"]:
        ip = next((a["address"] for a in n["status"].get("addresses", []) if a["type"] == "InternalIP"), "")
        role = "control-plane" if CONTROL_PLANE_LABEL in n["metadata"].get("labels", {}) else "worker"
        name = n["metadata"]["name"]
        out[name] = Node(name, ip, n["spec"].get("podCIDR", ""), role)
    return out


def workers(kubectl: Kubectl, at_least: int = 2) -> list[str]:
    """The worker nodes' names, sorted; fails when fewer than ``at_least`` (the one cluster has two)."""
    names = sorted(n.name for n in nodes(kubectl).values() if n.role == "worker")
    assert len(names) >= at_least, f"this lab needs {at_least} worker nodes, the cluster has {names}"
    return names


def swappable(kubectl: Kubectl) -> str:
    """The one worker cluster/kind.yaml lets labs swap a runtime or a kubelet on."""
    names = kubectl.run("get", "nodes", "-l", f"{SWAPPABLE_LABEL}=true", "-o", "name").split()
    assert len(names) == 1, f"the cluster definition marks one worker {SWAPPABLE_LABEL}=true, found {names}"
    return names[0].removeprefix("node/")


def node_run(node: str, *command: str, check: bool = True, timeout: float = 120, stdin: str | None = None) -> str:
    """Run ``command`` in the node's container (``docker exec``); its stdout, or AssertionError on failure."""
    proc = subprocess.run(
        ["docker", "exec", *(["-i"] if stdin is not None else []), node, *command],
        input=stdin, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    if check and proc.returncode != 0:
        raise AssertionError(f"on {node}: `{' '.join(command)}` failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def node_sh(node: str, script: str, check: bool = True, timeout: float = 120) -> str:
    """Run a shell script on the node."""
    return node_run(node, "sh", "-c", script, check=check, timeout=timeout)


def node_python(node: str, code: str, timeout: float = 120) -> str:
    """Run Python with the node's own python3, on the node's network."""
    return node_run(node, "python3", "-c", code, timeout=timeout)
