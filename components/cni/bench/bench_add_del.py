"""ADD+DEL latency: kubelab-cni (with the daemon, and in-process) beside the reference Go
bridge + host-local, in one run, each call in a fresh pod namespace, all inside a private
"node" namespace. Needs root. Prints rich tables.

    uv run python components/cni/bench/bench_add_del.py [--sequential 100] [--concurrent 20]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from kubelab_cluster.toolchain.build import built_binary
from kubelab_cni.install import install
from kubelab_kit.cni import Netns, exec_plugin, unique_name
from kubelab_kit.stats import percentile

console = Console(width=160)


@dataclass
class Variant:
    label: str
    binary: str
    conf: dict[str, Any]
    env: dict[str, str]
    cni_path: list[str] = field(default_factory=list)


@dataclass
class Samples:
    add: list[float] = field(default_factory=list)
    delete: list[float] = field(default_factory=list)
    both: list[float] = field(default_factory=list)
    wall: float = 0.0
    failures: int = 0


def enter(ns: Netns) -> None:
    """Move this process (single-threaded at this point) into ``ns``; children inherit it."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(ns.path, os.O_RDONLY)
    if libc.setns(fd, 0x40000000) != 0:
        raise OSError(ctypes.get_errno(), "setns failed")
    os.close(fd)


def reference_dir() -> Path | None:
    if os.environ.get("KUBELAB_CNI_REFERENCE_DIR"):
        return Path(os.environ["KUBELAB_CNI_REFERENCE_DIR"])
    bridge = built_binary("cni-plugins", "bridge")
    return bridge.parent if bridge else None


def network(work: Path, index: int, type_: str) -> dict[str, Any]:
    return {
        "cniVersion": "1.1.0",
        "name": unique_name("bench"),
        "type": type_,
        "bridge": unique_name("kl"),
        "isGateway": True,
        "isDefaultGateway": True,
        "hairpinMode": True,
        "ipam": {
            "type": "host-local",
            "ranges": [[{"subnet": f"10.99.{200 + index}.0/24"}]],
            "dataDir": str(work / f"ipam{index}"),
        },
    }


def one(variant: Variant, cid: str) -> tuple[float, float] | None:
    pod = Netns.create("klb")
    try:
        kw: dict[str, Any] = {"container_id": cid, "netns": pod.path, "cni_path": variant.cni_path}
        add = exec_plugin(variant.binary, "ADD", variant.conf, extra_env=variant.env, **kw)
        delete = exec_plugin(variant.binary, "DEL", variant.conf, extra_env=variant.env, **kw)
        if not (add.ok and delete.ok):
            console.print(f"[red]{variant.label}: {add.stdout!r} {delete.stdout!r}[/red]")
            return None
        return add.seconds, delete.seconds
    finally:
        pod.delete()


def run(variant: Variant, count: int, workers: int) -> Samples:
    samples = Samples()
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        for got in pool.map(lambda i: one(variant, f"bench{i}"), range(count)):
            if got is None:
                samples.failures += 1
                continue
            samples.add.append(got[0])
            samples.delete.append(got[1])
            samples.both.append(got[0] + got[1])
    samples.wall = time.perf_counter() - started
    return samples


def startup(binary: str, env: dict[str, str], runs: int = 20) -> float:
    """p50 of a VERSION call: what starting the executable costs."""
    times = [
        exec_plugin(binary, "VERSION", b'{"cniVersion":"1.1.0"}', ifname=None, extra_env=env).seconds
        for _ in range(runs)
    ]
    return statistics.median(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sequential", type=int, default=100)
    parser.add_argument("--concurrent", type=int, default=20)
    args = parser.parse_args()
    if os.geteuid() != 0 or not shutil.which("ip"):
        console.print("[red]needs root and iproute2[/red]")
        return 2
    ref = reference_dir()
    node = Netns.create("klbn")
    work = Path(tempfile.mkdtemp(prefix="kubelab-cni-bench-"))
    daemon: subprocess.Popen[bytes] | None = None
    try:
        enter(node)
        bin_dir = work / "bin"
        script = str(install(bin_dir))
        console_script = str(Path(sys.executable).parent / "kubelab-cni")
        sock = str(work / "daemon.sock")
        run_env = {"KUBELAB_CNI_RUN_DIR": str(work / "run")}
        daemon = subprocess.Popen(
            [sys.executable, "-m", "kubelab_cni.daemon", "--socket", sock],
            env={**os.environ, **run_env},
            stderr=subprocess.DEVNULL,
        )
        while not os.path.exists(sock):
            time.sleep(0.02)
        with_daemon = {**run_env, "KUBELAB_CNI_SOCKET": sock}
        no_daemon = {**run_env, "KUBELAB_CNI_SOCKET": str(work / "absent.sock")}
        variants = [
            Variant("kubelab-cni + daemon", script, network(work, 0, "kubelab-cni"), with_daemon),
            Variant("kubelab-cni in-process", script, network(work, 1, "kubelab-cni"), no_daemon),
        ]
        if ref is not None:
            variants.append(
                Variant("reference bridge+host-local", str(ref / "bridge"), network(work, 2, "bridge"), {}, [str(ref)])
            )
        else:
            console.print("[yellow]reference plugins not built; run `nox -s toolchain`[/yellow]")

        table = Table(title=f"ADD+DEL latency, ms (fresh netns per call; node netns {node.name})")
        for col in (
            "plugin",
            "mode",
            "n",
            "ADD p50",
            "ADD p95",
            "DEL p50",
            "DEL p95",
            "ADD+DEL p50",
            "ADD+DEL p95",
            "wall s",
        ):
            table.add_column(col, justify="right" if col not in ("plugin", "mode") else "left")
        for mode, count, workers in (
            ("sequential", args.sequential, 1),
            ("concurrent", args.concurrent, args.concurrent),
        ):
            for v in variants:
                s = run(v, count, workers)
                table.add_row(
                    v.label,
                    mode + (f" ({s.failures} failed)" if s.failures else ""),
                    str(len(s.both)),
                    *(f"{percentile(x, q) * 1000:.1f}" for x in (s.add, s.delete, s.both) for q in (50, 95)),
                    f"{s.wall:.1f}",
                )
        console.print(table)

        starts = Table(title="starting the plugin executable: VERSION p50, ms (20 runs)")
        starts.add_column("executable")
        starts.add_column("ms", justify="right")
        rows: list[tuple[str, Callable[[], float]]] = [
            ("installed script (python -IS), daemon up", lambda: startup(script, with_daemon)),
            ("console-script wrapper, daemon up", lambda: startup(console_script, with_daemon)),
            ("installed script, no daemon (in-process)", lambda: startup(script, no_daemon)),
        ]
        if ref is not None:
            rows.append(("reference bridge (Go)", lambda: startup(str(ref / "bridge"), {})))
        for label, measure in rows:
            starts.add_row(label, f"{measure():.1f}")
        console.print(starts)
    finally:
        if daemon is not None:
            daemon.terminate()
            daemon.wait(timeout=10)
        node.delete()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
