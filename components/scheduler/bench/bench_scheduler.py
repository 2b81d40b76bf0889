"""Benchmark: kubelab-scheduler beside kube-scheduler 1.37, in the same cluster, the same run.

Both run as one-replica Deployments with the same client limits (``--qps``/``--burst``, by
default kube-scheduler's own 50/100, in both configuration files) and schedule onto the same
nodes: ``--nodes`` Node objects made here without kubelets (as upstream's scheduler_perf does:
a bound pod costs nothing to run, so the cluster's two workers' 250-pod limit does not cap the
count), each with room for 250 pods. Both schedulers see the real nodes too.

For each scheduler and each count (``--pods``, default 200 and 1000), ``--runs`` times: the
identical pods are created while the scheduler is scaled to 0; it is scaled to 1, and a watch
times the first and the last bind; pods bound per second = (N - 1) / (last - first). The median
of the runs is printed beside kube-scheduler's, with the spread, and every run is checked: all
N bound, no node over its pod or CPU room.

Then a gang of ``--gang`` pods for each (its own PodGroup, all members required): the time from
its last pod created to its last pod bound, with the scheduler already running.

    uv run nox -s bench-scheduler [-- --runs 5 --pods 200 1000 --gang 50 --qps 50 --burst 100]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

from kubelab_client.errors import ApiError
from kubelab_client.kube import Api
from kubelab_client.resources import NODES, PODS
from kubelab_cluster.images.lab import build_lab_image
from kubelab_cluster.kind.cluster import Cluster, kubeconfig_path
from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_cluster.pins import pins, repo_root
from kubelab_cluster.progress import step
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.build import build
from kubelab_labkit import images, kube
from kubelab_scheduler.gang.podgroups import LABEL
from kubelab_scheduler.resources import CPU, amount, pod_requests

sys.path.insert(0, str(repo_root()))
from labs.scheduler.tests.schedlab import PAUSE, SCHEDULER, SYSTEM_NS, deploy, podgroup

console = Console(width=120)
PREFIX = "kubelab-bench-scheduler"
NODE_LABEL = "kubelab.dev/bench-node"
KUBE_SCHEDULER = "bench-kube-scheduler"  # kube-scheduler's second instance: its schedulerName and Deployment
POD_ROOM = 250
# the bench nodes are tainted so that no other pod goes there (the schedulers' own pods included), and are
# not-ready/unreachable to the node controller: the bench pods tolerate everything
BENCH_TAINT = {"key": NODE_LABEL, "value": "true", "effect": "NoSchedule"}
TOLERATE_ALL = [{"operator": "Exists"}]


def fake_node(name: str) -> dict[str, Any]:
    # no kubernetes.io/os label: DaemonSets (kube-proxy) leave these nodes alone
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, NODE_LABEL: "true"}},
        "spec": {"taints": [BENCH_TAINT]},
    }


def fake_status() -> dict[str, Any]:
    room = {"cpu": "64", "memory": "256Gi", "pods": str(POD_ROOM)}
    ready = {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "bench node (no kubelet)"}
    return {"status": {"capacity": room, "allocatable": room, "conditions": [ready]}}


@contextmanager
def fake_nodes(api: Api, count: int) -> Iterator[list[str]]:
    names = [f"{PREFIX}-{i:02d}" for i in range(count)]
    for name in names:
        api.create(NODES, fake_node(name))
        api.patch(NODES, name, fake_status(), subresource="status")
    try:
        yield names
    finally:
        for name in names:
            with suppress(ApiError):
                api.delete(NODES, name)


def bench_pod(name: str, ns: str, scheduler: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
        "spec": {
            "schedulerName": scheduler,
            "nodeSelector": {NODE_LABEL: "true"},
            "tolerations": TOLERATE_ALL,
            "terminationGracePeriodSeconds": 0,
            "containers": [{"name": "pause", "image": PAUSE, "resources": {"requests": {"cpu": "10m"}}}],
        },
    }


def kube_scheduler_manifests(image: str, qps: float, burst: int) -> list[dict[str, Any]]:
    """kube-scheduler (the node image's, the cluster's own build) as a second scheduler: RBAC of the
    built-in roles, its configuration, a Deployment without a secure port (nothing to authenticate)."""
    labels = {"app": KUBE_SCHEDULER}
    config = {
        "apiVersion": "kubescheduler.config.k8s.io/v1",
        "kind": "KubeSchedulerConfiguration",
        "clientConnection": {"qps": qps, "burst": burst},
        "leaderElection": {"leaderElect": False},
        "profiles": [{"schedulerName": KUBE_SCHEDULER}],
    }
    account = {"kind": "ServiceAccount", "name": KUBE_SCHEDULER, "namespace": SYSTEM_NS}
    bindings = [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": f"{KUBE_SCHEDULER}-{role.split(':')[-1]}"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [account],
        }
        for role in ("system:kube-scheduler", "system:volume-scheduler")
    ]
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": KUBE_SCHEDULER, "namespace": SYSTEM_NS}},
        *bindings,
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": KUBE_SCHEDULER, "namespace": SYSTEM_NS},
            "data": {"config.yaml": yaml.safe_dump(config)},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": KUBE_SCHEDULER, "namespace": SYSTEM_NS, "labels": labels},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "serviceAccountName": KUBE_SCHEDULER,
                        "containers": [
                            {
                                "name": "kube-scheduler",
                                "image": image,
                                "imagePullPolicy": "IfNotPresent",
                                "command": [
                                    "/usr/local/bin/kube-scheduler",
                                    "--config=/etc/bench/config.yaml",
                                    "--secure-port=0",
                                    "--feature-gates=GenericWorkload=true",  # its gangs, as the cluster's
                                ],
                                "volumeMounts": [{"name": "config", "mountPath": "/etc/bench"}],
                            }
                        ],
                        "volumes": [{"name": "config", "configMap": {"name": KUBE_SCHEDULER}}],
                    },
                },
            },
        },
    ]


def limit_ours(kubectl: Kubectl, qps: float, burst: int) -> None:
    """kubelab-scheduler's lab configuration with the bench's client limits (read at each scale-up)."""
    cm = kubectl.json("-n", SYSTEM_NS, "get", "configmap", "kubelab-scheduler-config")
    config = yaml.safe_load(cm["data"]["config.yaml"])
    config["clientConnection"] = {"qps": qps, "burst": burst}
    kubectl.run(
        "-n",
        SYSTEM_NS,
        "patch",
        "configmap",
        "kubelab-scheduler-config",
        "--type=merge",
        "-p",
        json.dumps({"data": {"config.yaml": yaml.safe_dump(config)}}),
    )


@dataclass
class Binds:
    """When each pod of a namespace was first seen bound (a watch, from before the scheduler starts)."""

    api: Api
    ns: str
    at: dict[str, float] = field(default_factory=dict)
    nodes: Counter[str] = field(default_factory=Counter)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> Binds:
        listed = self.api.request("GET", PODS.collection_path(self.ns))
        self._rv = listed["metadata"]["resourceVersion"]
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()

    def _watch(self) -> None:
        while not self._stop.is_set():
            query = {"watch": "true", "resourceVersion": self._rv, "timeoutSeconds": 30, "allowWatchBookmarks": "true"}
            stream = self.api.stream(PODS.collection_path(self.ns), query, read_timeout=40)
            try:
                for line in stream:
                    event = json.loads(line)
                    obj = event["object"]
                    self._rv = obj["metadata"].get("resourceVersion", self._rv)
                    node = (obj.get("spec") or {}).get("nodeName")
                    name = obj["metadata"].get("name", "")
                    if event["type"] in ("ADDED", "MODIFIED") and node and name not in self.at:
                        self.at[name] = time.monotonic()
                        self.nodes[node] += 1
                    if self._stop.is_set():
                        break
            finally:
                stream.close()

    def wait(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.at) < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"bench-scheduler: only {len(self.at)}/{count} pods bound in {timeout:.0f} s")
            time.sleep(0.1)

    def rate(self) -> float:
        first, last = min(self.at.values()), max(self.at.values())
        return (len(self.at) - 1) / (last - first) if last > first else float("inf")


def create_all(api: Api, ns: str, objs: list[dict[str, Any]], writers: int = 8) -> None:
    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(lambda o: api.create(PODS, o, ns), objs))


def clear(api: Api, ns: str) -> None:
    """Every pod of ``ns`` gone now: no kubelet will confirm a graceful delete on the bench nodes."""
    api.request("DELETE", PODS.collection_path(ns), query={"gracePeriodSeconds": 0})
    deadline = time.monotonic() + 180
    while api.request("GET", PODS.collection_path(ns), query={"limit": 1})["items"]:
        if time.monotonic() > deadline:
            raise SystemExit(f"bench-scheduler: pods of {ns} not gone after 180 s")
        time.sleep(0.5)


def scale(kubectl: Kubectl, deployment: str, replicas: int) -> None:
    kubectl.run("-n", SYSTEM_NS, "scale", f"deployment/{deployment}", f"--replicas={replicas}")
    if replicas:
        kube.rollout(kubectl, f"deployment/{deployment}", namespace=SYSTEM_NS, timeout=180)
    else:
        kubectl.run("-n", SYSTEM_NS, "wait", "--for=delete", "pod", "-l", f"app={deployment}", "--timeout=120s")


def overcommitted(api: Api, nodes: list[str]) -> list[str]:
    """Bench nodes holding more pods or CPU than they have room for (there must be none)."""
    per_node: dict[str, list[dict[str, Any]]] = {n: [] for n in nodes}
    for p in api.request("GET", PODS.collection_path())["items"]:
        if p["spec"].get("nodeName") in per_node:
            per_node[p["spec"]["nodeName"]].append(p)
    room = amount(CPU, fake_status()["status"]["allocatable"]["cpu"])
    return [n for n, ps in per_node.items() if len(ps) > POD_ROOM or sum(pod_requests(p).get(CPU) for p in ps) > room]


@dataclass
class Runs:
    scheduler: str
    pods: int
    rates: list[float] = field(default_factory=list)


def measure(
    api: Api, kubectl: Kubectl, deployment: str, scheduler: str, ns: str, count: int, nodes: list[str]
) -> float:
    create_all(api, ns, [bench_pod(f"b-{i:04d}", ns, scheduler) for i in range(count)])
    with Binds(api, ns) as binds:
        scale(kubectl, deployment, 1)
        binds.wait(count, timeout=count * 2 + 60)
    bad = overcommitted(api, nodes)
    scale(kubectl, deployment, 0)
    clear(api, ns)
    if bad:
        raise SystemExit(f"bench-scheduler: {scheduler} overcommitted {', '.join(bad)}")
    return binds.rate()


def gang_time(api: Api, kubectl: Kubectl, ns: str, size: int, deployment: str) -> float:
    """Last pod of the gang created to last pod bound, the scheduler already running: kubelab-scheduler's
    PodGroup (a label joins it) or kube-scheduler's (``scheduling.k8s.io/v1beta1``, ``spec.schedulingGroup``)."""
    scale(kubectl, deployment, 1)
    if deployment == KUBE_SCHEDULER:
        group = {"metadata": {"name": "gang"}, "spec": {"schedulingPolicy": {"gang": {"minCount": size}}}}
        api.request("POST", f"/apis/scheduling.k8s.io/v1beta1/namespaces/{ns}/podgroups", body=group)
        members = [bench_pod(f"g-{i:02d}", ns, KUBE_SCHEDULER) for i in range(size)]
        for member in members:
            member["spec"]["schedulingGroup"] = {"podGroupName": "gang"}
    else:
        api.request(
            "POST",
            f"/apis/scheduling.kubelab.dev/v1alpha1/namespaces/{ns}/podgroups",
            body=podgroup("gang", ns, size, timeout=120),
        )
        members = [bench_pod(f"g-{i:02d}", ns, SCHEDULER, {LABEL: "gang"}) for i in range(size)]
    with Binds(api, ns) as binds:
        create_all(api, ns, members)
        created = time.monotonic()
        binds.wait(size, timeout=180)
    took = max(binds.at.values()) - created
    scale(kubectl, deployment, 0)
    clear(api, ns)
    kubectl.run("-n", ns, "delete", "podgroups.scheduling.k8s.io,podgroups.scheduling.kubelab.dev", "--all")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pods", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--nodes", type=int, default=8, help="bench nodes (no kubelet), 250 pods each")
    parser.add_argument("--gang", type=int, default=50)
    parser.add_argument("--qps", type=float, default=50.0, help="both schedulers' client QPS")
    parser.add_argument("--burst", type=int, default=100, help="both schedulers' client burst")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if max(args.pods) > args.nodes * POD_ROOM:
        raise SystemExit(f"bench-scheduler: {max(args.pods)} pods need more than {args.nodes} nodes of {POD_ROOM}")

    kubeconfig = kubeconfig_path()
    kubectl = Kubectl(build(BY_NAME["kubectl"], pins()).binaries["kubectl"], kubeconfig)
    with step("lab image on the nodes"):
        image = images.deliver(build_lab_image(), Cluster.for_pins(pins()).node_containers())
    with step("kubelab-scheduler deployed (the lab's manifests), with the bench's client limits"):
        deploy(kubectl, image)
        scale(kubectl, "kubelab-scheduler", 0)
        limit_ours(kubectl, args.qps, args.burst)
    version = pins().kubernetes.version
    with step(f"kube-scheduler {version} deployed as {KUBE_SCHEDULER}"):
        kube.apply(
            kubectl, *kube_scheduler_manifests(f"registry.k8s.io/kube-scheduler:{version}", args.qps, args.burst)
        )
    api = Api.from_config(str(kubeconfig))
    api.api_client.configuration.connection_pool_maxsize = 16
    ns = f"{PREFIX}-pods"
    kubectl.run("create", "namespace", ns)
    results: list[Runs] = []
    gangs: dict[str, float] = {}
    try:
        with fake_nodes(api, args.nodes) as nodes:
            for count in args.pods:
                for label, deployment, name in (
                    ("kubelab-scheduler", "kubelab-scheduler", SCHEDULER),
                    ("kube-scheduler", KUBE_SCHEDULER, KUBE_SCHEDULER),
                ):
                    runs = Runs(label, count)
                    with step(f"{label}: {count} pods, {args.runs} runs") as s:
                        for _ in range(args.runs):
                            runs.rates.append(measure(api, kubectl, deployment, name, ns, count, nodes))
                        s.note = ", ".join(f"{r:.0f}" for r in runs.rates) + " pods/s"
                    results.append(runs)
            for label, deployment in (("kubelab-scheduler", "kubelab-scheduler"), ("kube-scheduler", KUBE_SCHEDULER)):
                with step(f"a gang of {args.gang} ({label})") as s:
                    gangs[label] = gang_time(api, kubectl, ns, args.gang, deployment)
                    s.note = f"{gangs[label]:.2f} s"
    finally:
        with step("bench objects deleted; kubelab-scheduler back to the lab's two replicas"):
            kubectl.run("delete", "namespace", ns, "--ignore-not-found", "--wait=true", timeout=300)
            kubectl.run("-n", SYSTEM_NS, "delete", "deployment", KUBE_SCHEDULER, "--ignore-not-found")
            deploy(kubectl, image)
        api.close()

    table = Table(title=f"pods bound per second, first to last bind (client QPS {args.qps:g}, burst {args.burst})")
    for col in ("pods", "scheduler", "median", "min", "max", "runs", "vs kube-scheduler"):
        table.add_column(col, justify="left" if col == "scheduler" else "right")
    figures: dict[str, Any] = {"qps": args.qps, "burst": args.burst, "nodes": args.nodes, "runs": {}}
    by = {(r.scheduler, r.pods): statistics.median(r.rates) for r in results}
    for r in results:
        median = by[(r.scheduler, r.pods)]
        ratio = median / by[("kube-scheduler", r.pods)]
        table.add_row(
            str(r.pods),
            r.scheduler,
            f"{median:.1f}",
            f"{min(r.rates):.1f}",
            f"{max(r.rates):.1f}",
            str(len(r.rates)),
            f"{ratio:.2f}",
        )
        figures["runs"][f"{r.scheduler}/{r.pods}"] = {"median": median, "rates": r.rates}
    console.print(table)
    for label, took in gangs.items():
        console.print(
            f"a gang of {args.gang} ({label}, its PodGroup of {args.gang}): last created to last bound {took:.2f} s"
        )
    figures["gang_seconds"] = gangs
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)


if __name__ == "__main__":
    main()
