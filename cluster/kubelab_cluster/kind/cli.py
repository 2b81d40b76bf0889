"""``kubelab-cluster``: bring the one kind cluster up (or reuse it), show it, take it down."""

from __future__ import annotations

import argparse
import sys
import time

from kubelab_cluster.kind.cluster import Cluster, ensure_cluster
from kubelab_cluster.pins import pins
from kubelab_cluster.progress import console
from kubelab_kit.entry import entry_point


def cmd_up(_: argparse.Namespace) -> int:
    started = time.monotonic()
    cluster = ensure_cluster(pins())
    console.print(cluster.kubectl.run("get", "nodes", "-o", "wide"))
    console.print(f"cluster {cluster.name} ready in {time.monotonic() - started:.1f} s")
    print(f"export KUBECONFIG={cluster.kubectl.kubeconfig}")
    return 0


def cmd_down(_: argparse.Namespace) -> int:
    cluster = Cluster.for_pins(pins())
    if cluster.exists():
        cluster.delete()
        console.print(f"cluster {cluster.name} deleted")
    else:
        console.print(f"cluster {cluster.name} does not exist")
    return 0


def cmd_status(_: argparse.Namespace) -> int:
    cluster = Cluster.for_pins(pins())
    if not cluster.exists():
        console.print(f"cluster {cluster.name} does not exist; run `uv run nox -s cluster`")
        return 1
    health = cluster.health()
    for problem in health.problems:
        console.print(f"[red]problem:[/red] {problem}")
    if health.ok:
        console.print(cluster.kubectl.run("get", "nodes", "-o", "wide"))
        print(f"export KUBECONFIG={cluster.kubectl.kubeconfig}")
    return 0 if health.ok else 1


@entry_point
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kubelab-cluster", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("up", help="create the cluster or reuse a healthy one").set_defaults(func=cmd_up)
    sub.add_parser("down", help="delete the cluster").set_defaults(func=cmd_down)
    sub.add_parser("status", help="health of the cluster").set_defaults(func=cmd_status)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
