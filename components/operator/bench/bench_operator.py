"""Benchmark: the CronJob operator on the lab cluster, beside Kubernetes' own in the same run.

Deploys what the lab deploys (the CRD, the operator's two replicas on the lab image, the
ValidatingAdmissionPolicy), then, in scratch namespaces deleted at the end:

* admission latency at a fixed rate (``--rate`` requests/s for ``--seconds``, open loop: each
  request is sent at its planned time, so a slow answer cannot slow the load down), as
  server-side dry-run creates of a CronJob: through the operator's two webhooks, through the
  ValidatingAdmissionPolicy (compiled CEL in the API server: Kubernetes' own way), and through
  neither (the API server's baseline);
* ``--cronjobs`` CronJobs created at once (``--writers`` threads): how long the creates took, and
  the time until every one has status (its conditions, written by the operator);
* the same number of Kubernetes' own batch/v1 CronJobs with the same schedule: when the next run
  is due, the delay until each controller has made its Jobs (Jobs suspended: no pods), the
  operator beside kube-controller-manager's CronJob controller;
* deleting the operator's CronJobs: the time until all are gone (each waits for the finalizer);
* the leader's memory (``process_resident_memory_bytes`` from its metrics) at rest and its peak
  under that load.

    uv run nox -s bench-operator [-- --cronjobs 500 --rate 100 --seconds 10]
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from kubelab_client.errors import ApiError
from kubelab_client.kube import Api
from kubelab_client.objects import parse_time
from kubelab_client.resources import Resource
from kubelab_cluster.images.lab import build_lab_image
from kubelab_cluster.kind.cluster import Cluster, kubeconfig_path
from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_cluster.pins import pins, repo_root
from kubelab_cluster.progress import step
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.build import build
from kubelab_kit.stats import summary
from kubelab_labkit import images, kube
from kubelab_operator.api.resource import CRONJOB, GROUP

sys.path.insert(0, str(repo_root()))
# the lab's own deployment, CronJob builder and metrics scrape
from labs.operator.tests.operatorlab import (
    cronjob,
    deploy,
    exposed,
    leader_pod,
    metric,
    next_minute,
    operator_pods,
    scrape,
    sleep_until,
)

console = Console(width=120)
KCJ = Resource(GROUP, "v1", CRONJOB.plural, "CronJob")
BATCH_CRONJOBS = Resource("batch", "v1", "cronjobs", "CronJob")
JOBS = Resource("batch", "v1", "jobs", "Job")
PREFIX = "kubelab-bench-operator"
VALIDATION = "kubelab.dev/cronjob-validation"  # the label choosing webhook, policy or neither


@dataclass
class Load:
    """Latencies of one admission path at a fixed rate."""

    label: str
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    wall: float = 0.0


def namespace(kubectl: Kubectl, name: str, labels: dict[str, str] | None = None) -> str:
    obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}}
    kube.apply(kubectl, obj)
    return name


def fixed_rate(label: str, rate: float, seconds: float, send: Callable[[int], None]) -> Load:
    """``send(i)`` at ``rate`` per second for ``seconds``, open loop; latency from each planned start."""
    load = Load(label)
    lock = threading.Lock()
    count = int(rate * seconds)
    start = time.perf_counter() + 0.2

    def one(i: int) -> None:
        planned = start + i / rate
        time.sleep(max(0.0, planned - time.perf_counter()))
        try:
            send(i)
        except ApiError as exc:
            with lock:
                load.failures.append(str(exc))
            return
        with lock:
            load.latencies.append(time.perf_counter() - planned)

    with ThreadPoolExecutor(max_workers=48) as pool:
        list(pool.map(one, range(count)))
    load.wall = time.perf_counter() - start
    return load


def admission(api: Api, kubectl: Kubectl, image: str, rate: float, seconds: float) -> list[Load]:
    paths = [
        ("webhooks (the operator's, FastAPI)", "webhook", None),
        ("ValidatingAdmissionPolicy (CEL)", "policy", "policy"),
        ("neither (the API server alone)", "none", "none"),
    ]
    loads = []
    for label, suffix, value in paths:
        ns = namespace(kubectl, f"{PREFIX}-{suffix}", {VALIDATION: value} if value else None)
        body = cronjob("dry-run", ns, image, "*/5 * * * *", suspend=True)

        def send(i: int, ns: str = ns, body: dict[str, Any] = body) -> None:
            obj = {**body, "metadata": {"name": f"dry-run-{i}", "namespace": ns}}
            api.request("POST", KCJ.collection_path(ns), {"dryRun": "All"}, obj)

        for i in range(20):  # warm the connections and the webhook
            send(i)
        with step(f"admission at {rate:g}/s for {seconds:g} s: {label}"):
            loads.append(fixed_rate(label, rate, seconds, send))
    return loads


class Memory:
    """The leader's resident memory, sampled every half second while ``running``."""

    def __init__(self, kubectl: Kubectl, pod: str) -> None:
        self.kubectl, self.pod = kubectl, pod
        self.peak = 0.0
        self.missed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def now(self) -> float:
        samples = scrape(self.kubectl, self.pod)
        assert exposed(samples, "process_resident_memory_bytes"), "the operator exposes no process metrics"
        return metric(samples, "process_resident_memory_bytes")

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            try:
                self.peak = max(self.peak, self.now())
            except Exception:  # a missed sample is no result; the next one counts
                self.missed += 1

    def __enter__(self) -> Memory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def current_leader(kubectl: Kubectl) -> str:
    """The leader among the pods of this deployment (after a rollout the Lease may still name a pod that is going)."""
    found: list[str] = []

    def elected() -> bool:
        holder = leader_pod(kubectl)
        found[:] = [holder]
        return holder in {p["metadata"]["name"] for p in operator_pods(kubectl)}

    until(elected, 60, "a leader among the new pods")
    return found[0]


def builtin_cronjob(name: str, ns: str, image: str, schedule: str) -> dict[str, Any]:
    """Kubernetes' own CronJob with the same Job template as the operator's."""
    ours = cronjob(name, ns, image, schedule)
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": ours["metadata"], "spec": ours["spec"]}


def suspended_jobs(obj: dict[str, Any]) -> dict[str, Any]:
    obj["spec"]["jobTemplate"]["spec"]["suspend"] = True  # the Jobs are made, their pods are not
    return obj


def create_all(api: Api, resource: Resource, objs: list[dict[str, Any]], writers: int) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=writers) as pool:
        list(pool.map(lambda o: api.create(resource, o), objs))
    return time.perf_counter() - start


def until(check: Callable[[], bool], timeout: float, what: str) -> float:
    start = time.perf_counter()
    while not check():
        if time.perf_counter() - start > timeout:
            raise SystemExit(f"bench-operator: {what} did not happen within {timeout:g} s")
        time.sleep(0.25)
    return time.perf_counter() - start


def with_status(api: Api, ns: str) -> int:
    items = api.request("GET", KCJ.collection_path(ns))["items"]
    return sum(1 for o in items if (o.get("status") or {}).get("conditions"))


def job_delays(api: Api, ns: str, due: float) -> list[float]:
    """Each Job's creation after the run was due (the API server's timestamps: one-second resolution)."""
    items = api.request("GET", JOBS.collection_path(ns))["items"]
    made = [parse_time(j["metadata"].get("creationTimestamp")) for j in items]
    return [when.timestamp() - due for when in made if when is not None]


def count(api: Api, resource: Resource, ns: str) -> int:
    return len(api.request("GET", resource.collection_path(ns))["items"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cronjobs", type=int, default=500)
    parser.add_argument("--writers", type=int, default=8, help="threads creating the CronJobs")
    parser.add_argument("--rate", type=float, default=100.0, help="admission requests per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of admission load per path")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    kubeconfig = kubeconfig_path()
    kubectl = Kubectl(build(BY_NAME["kubectl"], pins()).binaries["kubectl"], kubeconfig)
    with step("lab image on the nodes"):
        image = images.deliver(build_lab_image(), Cluster.for_pins(pins()).node_containers())
    with step("operator deployed (the lab's manifests)"):
        deploy(kubectl, image)
    api = Api.from_config(str(kubeconfig))
    api.api_client.configuration.connection_pool_maxsize = 64
    figures: dict[str, Any] = {"cronjobs": args.cronjobs, "rate": args.rate, "seconds": args.seconds}
    try:
        leader = current_leader(kubectl)
        memory = Memory(kubectl, leader)
        at_rest = memory.now()

        loads = admission(api, kubectl, image, args.rate, args.seconds)

        ours = namespace(kubectl, f"{PREFIX}-ours")
        theirs = namespace(kubectl, f"{PREFIX}-builtin")
        due = next_minute(lead=75)  # time to create both sets and see every status first
        schedule = f"{time.gmtime(due).tm_min} * * * *"
        n = args.cronjobs
        mine = [suspended_jobs(cronjob(f"bench-{i}", ours, image, schedule)) for i in range(n)]
        builtin = [suspended_jobs(builtin_cronjob(f"bench-{i}", theirs, image, schedule)) for i in range(n)]
        with memory:
            with step(f"{n} CronJobs created, until all have status") as s:
                created = create_all(api, KCJ, mine, args.writers)
                to_status = created + until(lambda: with_status(api, ours) >= n, 300, f"status on {n} CronJobs")
                s.note = f"created in {created:.1f} s, all with status after {to_status:.1f} s"
            with step(f"{n} batch/v1 CronJobs created"):
                created_builtin = create_all(api, BATCH_CRONJOBS, builtin, args.writers)
            if time.time() > due - 2:
                raise SystemExit("bench-operator: setup ran past the run it meant to measure; try fewer --cronjobs")
            with step(f"the run due at {time.strftime('%H:%M:%S', time.gmtime(due))}: {n} Jobs from each controller"):
                sleep_until(due)
                done: dict[str, float] = {}

                def both_done() -> bool:
                    for label, ns in (("operator", ours), ("kube-controller-manager", theirs)):
                        if label not in done and count(api, JOBS, ns) >= n:
                            done[label] = time.time() - due
                    return len(done) == 2

                until(both_done, 300, f"{n} Jobs from each controller")
            peak = memory.peak
        delays = {"operator": job_delays(api, ours, due), "kube-controller-manager": job_delays(api, theirs, due)}
        with step(f"{n} CronJobs deleted (each through the finalizer)") as s:
            start = time.perf_counter()
            api.request("DELETE", KCJ.collection_path(ours))
            until(lambda: count(api, KCJ, ours) == 0, 600, f"{n} CronJobs deleted")
            deleted = time.perf_counter() - start
            s.note = f"{deleted:.1f} s"
    finally:
        with step("scratch namespaces deleted"):
            for suffix in ("webhook", "policy", "none", "ours", "builtin"):
                kubectl.run("delete", "namespace", f"{PREFIX}-{suffix}", "--ignore-not-found", timeout=620)
        api.close()

    table = Table(title=f"admission: server-side dry-run creates at {args.rate:g}/s for {args.seconds:g} s (ms)")
    for col in ("path", "requests", "failed", "p50", "p90", "p99", "max", "achieved/s"):
        table.add_column(col, justify="left" if col == "path" else "right")
    figures["admission"] = {}
    for load in loads:
        stats = summary(load.latencies, scale=1e3)
        rate = len(load.latencies) / load.wall if load.wall else 0.0
        sent = str(len(load.latencies) + len(load.failures))
        cells = [f"{stats[k]:.1f}" for k in ("p50", "p90", "p99", "max")]
        table.add_row(load.label, sent, str(len(load.failures)), *cells, f"{rate:.0f}")
        figures["admission"][load.label] = {**stats, "failed": len(load.failures), "achieved": rate}
    console.print(table)

    table = Table(title=f"{n} CronJobs, one schedule: the operator beside kube-controller-manager")
    for col in ("", "operator (kubelab)", "kube-controller-manager"):
        table.add_column(col, justify="left" if not col else "right")
    table.add_row("created (s)", f"{created:.1f}", f"{created_builtin:.1f}")
    table.add_row("all have status (s, from the first create)", f"{to_status:.1f}", "n/a (status comes with a run)")
    for key, label in (("p50", "Job delay after the run was due, p50 (s)"), ("max", "Job delay, last Job (s)")):
        table.add_row(label, *(f"{summary(delays[c])[key]:.1f}" for c in ("operator", "kube-controller-manager")))
    table.add_row(
        "all Jobs seen by polling (s after due)", f"{done['operator']:.1f}", f"{done['kube-controller-manager']:.1f}"
    )
    table.add_row("CronJobs deleted, all gone (s)", f"{deleted:.1f}", "")
    console.print(table)
    for load in loads:
        if load.failures:
            console.print(f"{load.label}: {len(load.failures)} failed, the first: {load.failures[0]}")
    mib = 1024 * 1024
    console.print(
        f"operator leader {leader} memory (RSS): {at_rest / mib:.0f} MiB at rest, {peak / mib:.0f} MiB peak under load "
        f"({memory.missed} samples missed)"
    )
    figures.update(
        created=created,
        created_builtin=created_builtin,
        to_status=to_status,
        all_jobs=done,
        deleted=deleted,
        job_delay={c: summary(d) for c, d in delays.items()},
        memory_at_rest=at_rest,
        memory_peak=peak,
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)


if __name__ == "__main__":
    main()
