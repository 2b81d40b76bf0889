"""The cluster's local registry, the pattern kind documents: a registry container on
the ``kind`` network, reachable from the host as ``localhost:5001`` and from every
node through a containerd mirror: ``/etc/containerd/certs.d/localhost:5001/hosts.toml``
on every node points at ``http://kubelab-registry:5000`` (containerd reads it at each
pull, so nodes need no restart).

Images whose reference starts with ``localhost:5001/`` are pulled by the nodes
themselves, as from any registry (the CRI lab needs that); ``kind load`` remains the
default way to put the lab image on the nodes (faster here, see docs/cluster.md).
"""

from __future__ import annotations

import subprocess

from kubelab_cluster.images import docker
from kubelab_cluster.images.registry import build_registry_image

NAME = "kubelab-registry"
HOST_PORT = 5001
NETWORK = "kind"
PREFIX = f"localhost:{HOST_PORT}"


def _inspect(fmt: str) -> str:
    proc = subprocess.run(["docker", "inspect", "-f", fmt, NAME], capture_output=True, text=True, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else ""


def hosts_toml(prefix: str, server: str) -> str:
    """containerd's host configuration: images named ``prefix/...`` come from ``server`` (plain HTTP)."""
    return (
        f"# Images named {prefix}/... come from {server} on the kind network.\n"
        f'server = "{server}"\n\n[host."{server}"]\n  capabilities = ["pull", "resolve"]\n'
    )


def configure_nodes(nodes: list[str], prefix: str = PREFIX, server: str = f"http://{NAME}:5000") -> None:
    folder = f"/etc/containerd/certs.d/{prefix}"
    for node in nodes:
        subprocess.run(
            ["docker", "exec", "-i", node, "sh", "-c", f"mkdir -p '{folder}' && cat > '{folder}/hosts.toml'"],
            input=hosts_toml(prefix, server),
            text=True,
            check=True,
            capture_output=True,
        )


def unconfigure_nodes(nodes: list[str], prefix: str) -> None:
    for node in nodes:
        subprocess.run(["docker", "exec", node, "rm", "-rf", f"/etc/containerd/certs.d/{prefix}"],
                       capture_output=True, check=False)  # fmt: skip


def ensure_registry(nodes: list[str]) -> str:
    """Start (or keep) the registry container on the kind network and point every node's
    containerd at it; returns the prefix images are pushed under."""
    image = build_registry_image()
    if _inspect("{{.Config.Image}}") != image:
        subprocess.run(["docker", "rm", "-f", NAME], capture_output=True, check=False)
        docker.docker(
            image,
            "run",
            "-d",
            "--restart=always",
            "--name",
            NAME,
            "-p",
            f"127.0.0.1:{HOST_PORT}:5000",
            "-v",
            "kubelab-registry-data:/var/lib/registry",
            image,
        )
    if _inspect("{{.State.Running}}") != "true":
        docker.docker(image, "start", NAME)
    if NETWORK not in _inspect("{{json .NetworkSettings.Networks}}"):
        docker.docker(image, "network", "connect", NETWORK, NAME)
    configure_nodes(nodes)
    return PREFIX


def push(ref: str) -> str:
    """Tag and push a local image into the registry; returns the reference nodes pull."""
    target = f"{PREFIX}/{ref}"
    docker.tag(ref, target)
    docker.docker(target, "push", target)
    return target
