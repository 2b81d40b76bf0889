"""Checkpoint 14 (book 5.5): after 50 pods come and go, no address stays reserved and no veth stays behind."""

from __future__ import annotations

import time
from typing import Any

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube

from .cnilab import NS, our_veths, reservations

REPLICAS = 50


def _deployment(image: str, workers: list[str]) -> dict[str, Any]:
    on_workers = {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": workers}]}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "churn", "namespace": NS},
        "spec": {
            "replicas": REPLICAS,
            "selector": {"matchLabels": {"app": "churn"}},
            "template": {
                "metadata": {"labels": {"app": "churn"}},
                "spec": {
                    "terminationGracePeriodSeconds": 0,
                    "enableServiceLinks": False,
                    "affinity": {
                        "nodeAffinity": {
                            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [on_workers]}
                        }
                    },
                    "containers": [
                        {"name": "main", "image": image, "imagePullPolicy": "Never", "command": ["sleep", "infinity"]}
                    ],
                },
            },
        },
    }


def test_14_no_leaks_after_50_pods(
    kubectl: Kubectl, servers: dict[str, dict[str, Any]], workers: list[str], cni_network: str
) -> None:
    """Create 50 pods, delete them: every address and veth they had is released on every node.

    Hint (5.5): DEL must release the reservation of (CNI_CONTAINERID, CNI_IFNAME) and delete the host veth
    even when the netns is already gone (delete in components/cni/kubelab_cni/commands/delete.py,
    Allocator.release in ipam/allocator.py, veth.remove_link); look in /var/lib/cni/networks/kubelab/ on the
    node (`docker exec NODE ls /var/lib/cni/networks/kubelab`) and `docker exec NODE ip -d link show master
    kubelab0` (the veth alias names the container).
    """
    kube.apply(kubectl, _deployment(cni_network, workers))
    kubectl.run("-n", NS, "rollout", "status", "deployment/churn", "--timeout=180s", timeout=190)
    pods = kubectl.json("-n", NS, "get", "pods", "-l", "app=churn")["items"]
    held: dict[str, set[str]] = {w: set() for w in workers}
    for p in pods:
        held[p["spec"]["nodeName"]].add(p["status"]["podIP"])
    assert sum(len(v) for v in held.values()) == REPLICAS, {k: len(v) for k, v in held.items()}
    churn_ids: dict[str, set[str]] = {}
    for w in workers:
        store = reservations(w)
        missing = held[w] - set(store)
        assert not missing, f"{w}: pod IPs {sorted(missing)} are not reserved in the IPAM store"
        churn_ids[w] = {store[ip] for ip in held[w]}
    kubectl.run("-n", NS, "delete", "deployment", "churn", "--wait=true")
    kubectl.run("-n", NS, "wait", "--for=delete", "pod", "-l", "app=churn", "--timeout=180s", timeout=190)
    deadline = time.monotonic() + 30
    while True:  # the kubelet's DEL may trail the API object's deletion by a moment
        leaks = []
        for w in workers:
            store = reservations(w)
            leaks += [f"{w}: {ip} still reserved" for ip, cid in store.items() if cid in churn_ids[w]]
            leaks += [f"{w}: veth {v} still there" for v, cid in our_veths(w).items() if cid in churn_ids[w]]
        if not leaks or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert not leaks, leaks[:10]
