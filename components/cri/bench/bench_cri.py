"""Benchmark: pods on kubelab-cri beside pods on containerd, in the same cluster, the same run.

The swappable worker is moved onto kubelab-cri (as the CRI lab does) while the other worker
stays on containerd. For each node, ``--runs`` times, alternating: ``--pods`` busybox pods
(``sleep``, the image already on the node, so no pull is timed) are created at once, pinned to
the node; a poll every 0.1 s notes when each is first Running with its container ready. The
figures are per pod, from the moment its create call returned: p50, p90 and max, and the time
until the last one ran. Then the memory of each runtime with those pods running: the daemon's
resident set, and the per-container processes (kubelab-cri's monitors, containerd's
``containerd-shim-runc-v2``). The node goes back to containerd at the end.

    uv run nox -s bench-cri [-- --pods 20 --runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rich.console import Console
from rich.table import Table

from kubelab_cluster.images.busybox import build_busybox_image
from kubelab_cluster.images.lab import build_lab_image
from kubelab_cluster.kind.cluster import Cluster, kubeconfig_path
from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_cluster.kind.registry import ensure_registry, push
from kubelab_cluster.pins import pins, repo_root
from kubelab_cluster.progress import step
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.build import build
from kubelab_kit.stats import percentile
from kubelab_labkit import images, kube, pods
from kubelab_labkit.nodes import node_sh, workers

sys.path.insert(0, str(repo_root()))
from labs.cri.tests import crilab

console = Console(width=120)
NS = "kubelab-bench-cri"


def rss_kib(node: str, pattern: str) -> list[int]:
    """VmRSS of every process on the node whose command line matches ``pattern`` (pgrep -f)."""
    script = (
        f"for p in $(pgrep -f '{pattern}'); do grep VmRSS /proc/$p/status 2>/dev/null | tr -s ' ' | cut -d' ' -f2; done"
    )
    return [int(x) for x in node_sh(node, script).split() if x.isdigit()]


def create_and_time(kubectl: Kubectl, node: str, image: str, count: int, tag: str) -> tuple[list[float], float]:
    """Seconds from each pod's create to its container Running and ready; and from the first
    create to the last pod Running."""
    names = [f"{tag}-{i}" for i in range(count)]
    created: dict[str, float] = {}

    def create(name: str) -> None:
        manifest = pods.pod(name, NS, image, ["sleep", "3600"], node=node, restart="Always", labels={"bench": tag})
        kube.apply(kubectl, manifest)
        created[name] = time.monotonic()

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(create, names))
    running: dict[str, float] = {}
    deadline = time.monotonic() + 300
    while len(running) < count and time.monotonic() < deadline:
        now = time.monotonic()
        for item in kubectl.json("-n", NS, "get", "pods", "-l", f"bench={tag}")["items"]:
            name = item["metadata"]["name"]
            statuses = item["status"].get("containerStatuses") or [{}]
            if name not in running and statuses[0].get("ready"):
                running[name] = now
        time.sleep(0.1)
    missing = sorted(set(names) - set(running))
    if missing:
        raise SystemExit(f"{len(missing)} pods never ran on {node}: {missing[:5]}")
    return [running[n] - created[n] for n in names], max(running.values()) - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    kubeconfig = kubeconfig_path()
    kubectl = Kubectl(build(BY_NAME["kubectl"], pins()).binaries["kubectl"], Path(kubeconfig))
    node_containers = Cluster.for_pins(pins()).node_containers()
    ours = crilab.swappable_node(kubectl)
    theirs = next(w for w in workers(kubectl) if w != ours)
    ensure_registry(node_containers)
    busybox = push(build_busybox_image())
    lab_image = images.deliver(build_lab_image(), node_containers)
    results: dict[str, list[list[float]]] = {ours: [], theirs: []}
    totals: dict[str, list[float]] = {ours: [], theirs: []}
    memory: dict[str, dict[str, list[int]]] = {}
    try:
        with step(f"{ours} onto kubelab-cri"):
            crilab.install_site(ours, lab_image)
            crilab.install_impl(ours, None)
            crilab.mirror_node_images(kubectl, ours, node_containers)
            crilab.start_runtime(ours)
            crilab.use_runtime(kubectl, ours, crilab.OURS)
        kubectl.run("delete", "namespace", NS, "--ignore-not-found", "--wait=true", timeout=180)
        kubectl.run("create", "namespace", NS)
        for node in (ours, theirs):  # the image on both nodes, not part of what is timed
            kube.apply(kubectl, pods.pod(f"warm-{node}", NS, busybox, ["true"], node=node))
            pods.wait_done(kubectl, NS, f"warm-{node}", timeout=120)
        for run in range(args.runs):
            for node in (ours, theirs) if run % 2 == 0 else (theirs, ours):
                tag = f"r{run}-{'ours' if node == ours else 'containerd'}"
                with step(f"run {run + 1}: {args.pods} pods on {node}") as s:
                    times, total = create_and_time(kubectl, node, busybox, args.pods, tag)
                    s.note = f"all Running {total:.1f} s after the first create"
                results[node].append(times)
                totals[node].append(total)
                if run == args.runs - 1:
                    memory[node] = {
                        "daemon": rss_kib(
                            node, "[k]ubelab-cri serve" if node == ours else "^/usr/local/bin/containerd$"
                        ),
                        "per-container": rss_kib(
                            node, "[k]ubelab_cri.runtime.shim" if node == ours else "[c]ontainerd-shim"
                        ),
                    }
                kubectl.run(
                    "-n", NS, "delete", "pods", "-l", f"bench={tag}", "--wait=true", "--grace-period=0", timeout=300
                )
    finally:
        kubectl.run("delete", "namespace", NS, "--ignore-not-found", "--wait=true", timeout=300, check=False)
        with step(f"{ours} back onto containerd"):
            crilab.use_runtime(kubectl, ours, crilab.CONTAINERD)
            crilab.stop_runtime(ours)
    table = Table(title=f"{args.pods} pods created at once, create to Running and ready (median of {args.runs} runs)")
    for column in ("runtime", "p50 s", "p90 s", "max s", "all Running s", "runs (all Running s)"):
        table.add_column(column, justify="right" if column != "runtime" else "left")
    medians = {}
    for node, label in ((ours, "kubelab-cri (Python)"), (theirs, "containerd 2.4")):
        runs = results[node]
        p50 = statistics.median(percentile(r, 50) for r in runs)
        medians[node] = p50
        table.add_row(
            label,
            f"{p50:.2f}",
            f"{statistics.median(percentile(r, 90) for r in runs):.2f}",
            f"{statistics.median(max(r) for r in runs):.2f}",
            f"{statistics.median(totals[node]):.2f}",
            ", ".join(f"{t:.1f}" for t in totals[node]),
        )
    console.print(table)
    console.print(f"kubelab-cri / containerd, p50: {medians[ours] / medians[theirs]:.2f}x (goal: within 2x)")
    mem = Table(title=f"memory with {args.pods} pods running, and kube-proxy (resident set)")
    for column in ("runtime", "daemon MiB", "per-container processes", "their total MiB", "each MiB"):
        mem.add_column(column, justify="right" if column != "runtime" else "left")
    for node, label in ((ours, "kubelab-cri: serve + one monitor per container"), (theirs, "containerd + shims")):
        daemon, each = memory[node]["daemon"], memory[node]["per-container"]
        mem.add_row(
            label,
            f"{sum(daemon) / 1024:.1f}",
            str(len(each)),
            f"{sum(each) / 1024:.1f}",
            f"{(sum(each) / len(each) / 1024) if each else 0:.1f}",
        )
    console.print(mem)
    return 0


if __name__ == "__main__":
    sys.exit(main())
