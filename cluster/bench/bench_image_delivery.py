"""How should the lab image reach the nodes? ``kind load`` versus the local registry.

Both with the real lab image, on the running cluster, starting each time from nodes
that do not have it: ``kind load docker-image`` (docker save, then ``ctr import`` on
every node) against ``docker push`` to the registry plus ``crictl pull`` on every node
in parallel. Prints a table; run with ``uv run python cluster/bench/bench_image_delivery.py``.
"""

from __future__ import annotations

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from rich.console import Console
from rich.table import Table

from kubelab_cluster.images.lab import build_lab_image
from kubelab_cluster.kind.cluster import Cluster
from kubelab_cluster.kind.registry import ensure_registry, push
from kubelab_cluster.pins import pins


def sh(*cmd: str) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def remove_from_nodes(nodes: list[str], ref: str) -> None:
    for node in nodes:
        subprocess.run(["docker", "exec", node, "crictl", "rmi", ref], capture_output=True, check=False)
        subprocess.run(
            ["docker", "exec", node, "ctr", "-n", "k8s.io", "images", "rm", f"docker.io/{ref}", ref],
            capture_output=True,
            check=False,
        )


def main(rounds: int = 2) -> None:
    cluster = Cluster.for_pins(pins())
    nodes = cluster.node_containers()
    ref = build_lab_image()
    size = int(sh("docker", "image", "inspect", "-f", "{{.Size}}", ref)) / 2**20
    ensure_registry(nodes)
    rows = []
    for i in range(rounds):
        remove_from_nodes(nodes, ref)
        started = time.monotonic()
        sh(str(cluster.kind), "load", "docker-image", ref, "--name", cluster.name)
        rows.append(("kind load docker-image", i + 1, time.monotonic() - started, 0.0))

        tagged = f"{ref}-bench{time.time_ns()}"
        sh("docker", "tag", ref, tagged)
        started = time.monotonic()
        target = push(tagged)
        pushed = time.monotonic() - started
        with ThreadPoolExecutor(len(nodes)) as pool:
            list(pool.map(lambda n, t=target: sh("docker", "exec", n, "crictl", "pull", t), nodes))
        rows.append(("registry: push + pull on every node", i + 1, time.monotonic() - started, pushed))
        remove_from_nodes(nodes, target)
        sh("docker", "rmi", tagged, target)
    table = Table(title=f"lab image ({size:.0f} MiB) to {len(nodes)} nodes")
    for col in ("method", "round", "seconds", "of which push"):
        table.add_column(col)
    for method, rnd, secs, pushed in rows:
        table.add_row(method, str(rnd), f"{secs:.1f}", f"{pushed:.1f}" if pushed else "")
    Console().print(table)


if __name__ == "__main__":
    main()
