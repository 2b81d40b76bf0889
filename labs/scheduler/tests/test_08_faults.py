"""Checkpoints 14-15 (book 8.1, 8.2): faults while pods are being placed: a node deleted mid-burst,
the API server restarted mid-burst. No pod is lost (every one ends up bound), none is bound twice,
and nothing goes to a node that is gone."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube
from kubelab_labkit.namespaces import MakeNamespace
from kubelab_labkit.nodes import node_sh, workers
from kubelab_labkit.waiting import eventually

from .schedlab import create_all, events, pod, pods_in, scratch

VANISHING = "kubelab-scheduler-vanishing"  # a Node object without a kubelet: pods bound there never run


def vanishing_node(kubectl: Kubectl) -> None:
    kube.apply(
        kubectl,
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": VANISHING, "labels": {"kubernetes.io/hostname": VANISHING}},
        },
    )
    room = {"cpu": "16", "memory": "64Gi", "pods": "110"}
    status = {
        "capacity": room,
        "allocatable": room,
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
    }
    kubectl.run(
        "patch", "node", VANISHING, "--subresource=status", "--type=merge", "-p", json.dumps({"status": status})
    )


@pytest.fixture
def vanishing(kubectl: Kubectl) -> Iterator[str]:
    vanishing_node(kubectl)
    yield VANISHING
    kubectl.run("delete", "node", VANISHING, "--ignore-not-found", "--wait=true")
    # DaemonSets (the pod network's agent) made a pod for it, Pending for ever: the lab is done when they are gone
    eventually(lambda: _no_pods_for(kubectl, VANISHING), timeout=120, interval=1, what=f"no pod left for {VANISHING}")


def _no_pods_for(kubectl: Kubectl, node: str) -> bool:
    left = [
        f"{p['metadata']['namespace']}/{p['metadata']['name']}"
        for p in kubectl.json("get", "pods", "-A")["items"]
        if p["spec"].get("nodeName") == node or node in json.dumps(p["spec"].get("affinity") or {})
    ]
    assert not left, f"pods still bound to or aimed at the deleted node: {left}"
    return True


def preferring(node: str, allowed: list[str]) -> dict[str, Any]:
    term = {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": allowed}]}
    prefer = {
        "weight": 100,
        "preference": {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]},
    }
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]},
            "preferredDuringSchedulingIgnoredDuringExecution": [prefer],
        }
    }


def placed(kubectl: Kubectl, ns: str, prefix: str = "") -> dict[str, str]:
    return {
        p["metadata"]["name"]: p["spec"].get("nodeName") or ""
        for p in pods_in(kubectl, ns)
        if p["metadata"]["name"].startswith(prefix)
    }


def all_bound(kubectl: Kubectl, ns: str, prefix: str = "") -> dict[str, str]:
    """pod -> node once every pod (named ``prefix``...) is bound, else {}."""
    got = placed(kubectl, ns, prefix)
    return got if got and all(got.values()) else {}


def test_14_node_deleted_mid_burst(
    kubectl: Kubectl, make_namespace: MakeNamespace, scheduler: str, vanishing: str
) -> None:
    """40 pods preferring a node that is deleted once some are bound there: every pod ends up bound (none
    left pending), and pods created after the deletion all go to the live workers.

    Hint (8.1): scheduler.py node_deleted (the cache forgets the node, its pods' room with it);
    cache.py (assumed pods on a node that vanished); a failed bind forgets and requeues the pod.
    """
    with scratch(kubectl, make_namespace, "kubelab-scheduler-vanish") as ns:
        live = workers(kubectl)
        allowed = [vanishing, *live]
        tolerate = [{"operator": "Exists"}]  # the node controller marks a node without a kubelet not ready
        spec = {"affinity": preferring(vanishing, allowed), "tolerations": tolerate}
        create_all(kubectl, [pod(f"v-{i:02d}", ns, "5m", **spec) for i in range(40)])
        eventually(
            lambda: sum(1 for n in placed(kubectl, ns).values() if n == vanishing) >= 5,
            timeout=60,
            interval=0.2,
            what="the first binds to the vanishing node",
        )
        kubectl.run("delete", "node", vanishing)
        gone_at = time.monotonic()
        final = eventually(lambda: all_bound(kubectl, ns, "v-"), timeout=120, what="all 40 pods bound")
        time.sleep(max(0.0, 3 - (time.monotonic() - gone_at)))  # the deletion has reached the scheduler
        create_all(kubectl, [pod(f"after-{i}", ns, "5m", **spec) for i in range(10)])
        after = eventually(lambda: all_bound(kubectl, ns, "after-"), timeout=60, what="the later pods bound")
        assert set(after.values()) <= set(live), f"bound to a node that is gone: {after}"
        assert len(final) == 40
        kubectl.run("-n", ns, "delete", "pods", "--all", "--grace-period=0", "--force", "--wait=false")


def test_15_api_server_restarted_mid_burst(kubectl: Kubectl, make_namespace: MakeNamespace, scheduler: str) -> None:
    """60 small pods; once some are bound, kube-apiserver is restarted (its container killed; the kubelet
    starts it again): every pod ends up bound, none announced Scheduled twice, the scheduler back to
    two Ready replicas.

    Hint (8.1, 8.2): the informers' reflectors re-list and re-watch (kubelab_client); a bind whose answer
    was lost is retried and refused (409) if it had landed: the pod is not announced twice (scheduler.py);
    losing the Lease exits the leader (cli.py) and its pod restarts.
    """
    with scratch(kubectl, make_namespace, "kubelab-scheduler-apiserver") as ns:
        live = workers(kubectl)
        term = {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": live}]}
        affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}
        create_all(kubectl, [pod(f"a-{i:02d}", ns, "5m", affinity=affinity) for i in range(60)])
        eventually(
            lambda: sum(1 for n in placed(kubectl, ns).values() if n) >= 5, timeout=60, interval=0.2, what="first binds"
        )
        control_plane = kubectl.json("get", "nodes", "-l", "node-role.kubernetes.io/control-plane")["items"][0]
        try:  # kube-apiserver shuts down gracefully for seconds: more than crictl's default 2 s deadline
            node_sh(
                control_plane["metadata"]["name"], "crictl --timeout=60s stop $(crictl ps -q --name kube-apiserver)"
            )
        finally:  # back before anything else (the namespace's deletion included)
            eventually(
                lambda: kubectl.attempt("get", "--raw", "/readyz").returncode == 0, timeout=180, what="the API back"
            )
        eventually(lambda: all_bound(kubectl, ns), timeout=180, what="all 60 pods bound")
        announced = Counter(e["regarding"]["name"] for e in events(kubectl, ns, "Scheduled"))
        assert not [n for n, c in announced.items() if c > 1], announced.most_common(3)
        kube.rollout(kubectl, "deployment/kubelab-scheduler", namespace="kubelab-scheduler-system", timeout=180)
