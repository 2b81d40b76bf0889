"""Checks before a cluster is created, each failing with the fix to apply."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

from kubelab_cluster.kind.errors import ClusterError
from kubelab_cluster.kind.registry import HOST_PORT, NAME

MIN_FREE_GIB = 10


class PreflightError(ClusterError):
    pass


def docker_root() -> str:
    proc = subprocess.run(["docker", "info", "-f", "{{.DockerRootDir}}"], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or ["no answer"])[-1]
        raise PreflightError(
            f"the Docker engine is not reachable ({detail}). Fix: `uv run kubelab-host setup` (or `nox -s host`)"
        )
    return proc.stdout.strip()


def check_disk(path: str, need_gib: int = MIN_FREE_GIB) -> None:
    free = shutil.disk_usage(path).free / 2**30
    if free < need_gib:
        raise PreflightError(
            f"only {free:.1f} GiB free under {path}; the node image, control-plane images and three nodes need "
            f"about {need_gib} GiB. Fix: free space (e.g. `docker system prune`), or move Docker's data-root"
        )


def port_owner_is_ours(port: int) -> bool:
    proc = subprocess.run(["docker", "port", NAME], capture_output=True, text=True, check=False)
    return proc.returncode == 0 and f":{port}" in proc.stdout


def check_port(port: int = HOST_PORT) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            if not port_owner_is_ours(port):
                raise PreflightError(
                    f"port 127.0.0.1:{port} (the lab registry) is taken by another program. "
                    f"Fix: stop it (`ss -ltnp 'sport = :{port}'` names it)"
                ) from None


# Mounted at /etc/kubelab in every node (cluster/kind.yaml): labs write files there for
# kube-apiserver and the kubelet while the cluster runs.
CLUSTER_FILES = Path("/var/lib/kubelab/cluster-files")


def preflight() -> None:
    CLUSTER_FILES.mkdir(parents=True, exist_ok=True)
    if shutil.which("docker") is None:
        raise PreflightError("docker is not installed. Fix: `uv run kubelab-host setup` (or `nox -s host`)")
    check_disk(docker_root())
    check_port()
