"""Benchmark: change → handler latency and memory per cached object, informer vs a plain watch loop.

By default it runs against the fake API server (``kubelab_client.testing``) in this
process, so the numbers include the fake server's own work and the GIL it shares with
the clients. With ``--kubeconfig`` it runs against a real cluster (the lab's kind
cluster): ConfigMaps in a scratch namespace ``kubelab-bench``, deleted afterwards.
Either way both clients are measured in the same run under the same conditions.

* latency, paced: one update at a time, the next once both clients saw it (no queueing);
* latency, burst: ``--burst`` updates back to back (queueing included), and the time
  until both clients saw the last one;
* memory: tracemalloc over an informer that synced ``--objects`` objects, minus one that
  synced none, per object; beside the same objects kept as plain dicts and as JSON text.

    uv run python components/client/bench/bench_informer.py [--objects 1000] [--updates 1000]
    uv run python components/client/bench/bench_informer.py --kubeconfig "$KUBECONFIG"  # a real cluster
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import threading
import time
import tracemalloc
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from kubelab_client.errors import ApiError
from kubelab_client.informer import HandlerFuncs, SharedInformer
from kubelab_client.kube import Api
from kubelab_client.listwatch import ListWatch, WatchOptions
from kubelab_client.objects import resource_version
from kubelab_client.resources import CONFIGMAPS, NAMESPACES
from kubelab_client.testing import FakeApiServer, fast_reflector_options
from kubelab_kit.stats import summary

console = Console(width=120)


@dataclass
class Probe:
    """Receive times of watched resourceVersions, with a wait for one RV."""

    name: str
    seen: dict[int, float] = field(default_factory=dict)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def saw(self, obj: Any) -> None:
        now = time.perf_counter()
        rv = int(resource_version(obj) or 0)
        with self.cond:
            self.seen[rv] = now
            self.cond.notify_all()

    def wait(self, rv: int, timeout: float = 10.0) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: rv in self.seen, timeout)


NAMESPACE = "kubelab-bench"


class FakeBackend:
    """The in-process fake API server."""

    where = "fake API server in-process"

    def __init__(self) -> None:
        self.fake = FakeApiServer()
        self.fake.__enter__()
        self.api = Api.for_host(self.fake.url)

    def apply(self, name: str, data: dict[str, str], labels: dict[str, str] | None = None) -> Any:
        return self.fake.apply("bench", name, data, labels)

    def wait_watches(self, n: int) -> None:
        self.fake.wait_for(lambda: self.fake.open_watches() >= n)

    def close(self) -> None:
        self.api.close()
        self.fake.__exit__(None, None, None)


class ClusterBackend:
    """A real API server: ConfigMaps in a scratch namespace."""

    where = "real API server (kind cluster)"

    def __init__(self, kubeconfig: str) -> None:
        self.api = Api.from_config(kubeconfig)
        self._delete_namespace()
        self.api.create(NAMESPACES, {"metadata": {"name": NAMESPACE}})

    def _delete_namespace(self) -> None:
        try:
            self.api.delete(NAMESPACES, NAMESPACE)
        except ApiError as exc:
            if exc.status != 404:
                raise
            return
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                self.api.get(NAMESPACES, NAMESPACE)
            except ApiError as exc:
                if exc.status == 404:
                    return
            time.sleep(0.5)

    def apply(self, name: str, data: dict[str, str], labels: dict[str, str] | None = None) -> Any:
        if labels is not None:
            obj = {"metadata": {"name": name, "namespace": NAMESPACE, "labels": labels}, "data": data}
            return self.api.create(CONFIGMAPS, obj)
        return self.api.patch(CONFIGMAPS, name, {"data": data}, NAMESPACE)

    def wait_watches(self, n: int) -> None:
        time.sleep(1.0)  # a real server does not tell; watches open within milliseconds

    def close(self) -> None:
        self._delete_namespace()
        self.api.close()


Backend = FakeBackend | ClusterBackend


def populate(backend: Backend, n: int, rng: random.Random) -> None:
    for i in range(n):
        data = {f"key-{k}": f"value-{rng.random():.12f}" for k in range(5)}
        backend.apply(f"cm-{i:05}", data, {"app": "bench", "shard": str(i % 10)})


def start_informer(api: Api, stop: threading.Event, selector: str | None, probe: Probe | None) -> SharedInformer:
    informer = SharedInformer(
        ListWatch(api, CONFIGMAPS, label_selector=selector), reflector_options=fast_reflector_options(page_size=500)
    )
    if probe is not None:
        informer.add_event_handler(HandlerFuncs(add=probe.saw, update=lambda old, new: probe.saw(new)))
    informer.start(stop)
    if not informer.wait_for_cache_sync(30):
        raise SystemExit("informer did not sync")
    return informer


def plain_watch_loop(api: Api, stop: threading.Event, rv: str, probe: Probe, selector: str) -> threading.Thread:
    """What you would write without the cache layer: one watch, events to a callback."""
    stream = ListWatch(api, CONFIGMAPS, label_selector=selector).watch(
        WatchOptions(rv, timeout_seconds=600, read_timeout=660)
    )

    def loop() -> None:
        for event in stream:
            probe.saw(event.obj)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    threading.Thread(target=lambda: (stop.wait(), stream.close()), daemon=True).start()
    return thread


def measure_memory(api: Api, n: int) -> dict[str, float]:
    def informer_bytes(selector: str) -> int:
        stop = threading.Event()
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        informer = start_informer(api, stop, selector, None)
        informer.wait_idle(30)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        stop.set()
        return after - before

    full = informer_bytes("app=bench")
    empty = informer_bytes("app=none")
    items = api.request("GET", CONFIGMAPS.collection_path(), {"labelSelector": "app=bench"})["items"]
    text = json.dumps(items)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    as_dicts = {f"bench/{i}": obj for i, obj in enumerate(json.loads(text))}
    dict_bytes = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del as_dicts
    return {
        "informer": (full - empty) / n,
        "dicts": dict_bytes / n,
        "json": len(text.encode()) / n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=1000, help="paced updates")
    parser.add_argument("--burst", type=int, default=500, help="back-to-back updates")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--kubeconfig", help="run against this cluster instead of the in-process fake server")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    backend: Backend = ClusterBackend(args.kubeconfig) if args.kubeconfig else FakeBackend()
    try:
        api = backend.api
        populate(backend, args.objects, rng)
        memory = measure_memory(api, args.objects)

        stop = threading.Event()
        informer_probe, plain_probe = Probe("informer"), Probe("plain")
        informer = start_informer(api, stop, "app=bench", informer_probe)
        plain_watch_loop(api, stop, informer.last_sync_resource_version, plain_probe, "app=bench")
        backend.wait_watches(2)
        names = [f"cm-{i:05}" for i in range(args.objects)]

        def update() -> tuple[int, float]:
            name = rng.choice(names)
            started = time.perf_counter()
            obj = backend.apply(name, {"key-0": f"{rng.random():.12f}"})
            return int(resource_version(obj)), started

        paced: dict[str, list[float]] = {"informer": [], "plain": []}
        for _ in range(args.updates):
            rv, started = update()
            for probe in (informer_probe, plain_probe):
                if not probe.wait(rv):
                    raise SystemExit(f"{probe.name} missed rv {rv}")
                paced[probe.name].append(probe.seen[rv] - started)

        burst: dict[str, list[float]] = {"informer": [], "plain": []}
        sent = [update() for _ in range(args.burst)]
        burst_started = sent[0][1]
        drain: dict[str, float] = {}
        for probe in (informer_probe, plain_probe):
            if not probe.wait(sent[-1][0], 30):
                raise SystemExit(f"{probe.name} missed the burst")
            burst[probe.name] = [probe.seen[rv] - t for rv, t in sent]
            drain[probe.name] = probe.seen[sent[-1][0]] - burst_started
        stop.set()
    finally:
        backend.close()

    table = Table(title=f"change → handler latency, ms ({args.objects} cached objects, {backend.where})")
    for column in ("client", "mode", "n", "p50", "p90", "p99", "max", "burst drained"):
        table.add_column(column, justify="right" if column not in ("client", "mode") else "left")
    labels = {"informer": "SharedInformer → handler", "plain": "plain watch loop"}
    figures: dict[str, Any] = {"objects": args.objects, "memory_bytes_per_object": memory}
    for key in ("informer", "plain"):
        for mode, samples in (("paced", paced[key]), ("burst", burst[key])):
            p = summary(samples, scale=1e3)
            figures[f"{key}_{mode}_ms"] = p
            extra = f"{drain[key] * 1e3:.1f} ms" if mode == "burst" else ""
            table.add_row(
                labels[key], mode, str(len(samples)), *(f"{p[k]:.2f}" for k in ("p50", "p90", "p99", "max")), extra
            )
    console.print(table)

    mem = Table(title="memory per cached object (tracemalloc)")
    mem.add_column("what")
    mem.add_column("bytes / object", justify="right")
    mem.add_row("informer cache (indexer with its namespace index)", f"{memory['informer']:,.0f}")
    mem.add_row("the same objects as plain dicts (json.loads)", f"{memory['dicts']:,.0f}")
    mem.add_row("the same objects as JSON text", f"{memory['json']:,.0f}")
    console.print(mem)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(figures, out, indent=2)


if __name__ == "__main__":
    main()
