"""Delivering an image to every node of the kind cluster.

Through the cluster's local registry (push, then every node pulls in parallel): measured
faster than ``kind load`` here, and only changed layers travel
(cluster/bench/bench_image_delivery.py, docs/cluster.md). Pods may then use
``imagePullPolicy: Never`` or ``IfNotPresent`` with the returned reference.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from kubelab_cluster.kind.registry import ensure_registry, push


def deliver(ref: str, node_containers: Sequence[str]) -> str:
    """Make ``ref`` (a local Docker image) pullable on every node and pulled; returns the reference to use."""
    ensure_registry(list(node_containers))
    target = push(ref)

    def pull(node: str) -> None:
        proc = subprocess.run(["docker", "exec", node, "crictl", "pull", target], capture_output=True, text=True)
        if proc.returncode != 0:
            raise AssertionError(f"{node} could not pull {target}: {proc.stderr.strip()}")

    with ThreadPoolExecutor(max(1, len(node_containers))) as pool:
        list(pool.map(pull, node_containers))
    return target
