"""Checkpoint 16 (book 5.5): after 50 pods come and go, no address stays reserved and no veth stays behind.

Plugin-independent: the store is read as host-local's files, a veth is matched to a pod through the
kernel (the host end whose peer is the pod sandbox's eth0), and what is left is compared with the pod
sandboxes the node's runtime still has (crictl), not with names a plugin happens to give.
"""

from __future__ import annotations

import time
from typing import Any

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube

from .cnilab import NS, host_veths, leaks, plugin_conf, read_store, sandboxes, store_dir

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


def test_16_no_leaks_after_50_pods(
    kubectl: Kubectl, servers: dict[str, dict[str, Any]], workers: list[str], cni_network: str
) -> None:
    """Create 50 pods: each has its own address, reserved for its sandbox; delete them: on every node
    no reservation is left for a container the runtime no longer runs, and no host veth is left of
    those pods, on the bridge or anywhere (nor any bridge port whose peer is in no live pod sandbox).

    Hint (5.5): DEL must release the reservation of (CNI_CONTAINERID, CNI_IFNAME) and delete the host veth
    even when the netns is already gone (the starter's cmd_del and release in student_cni/ipam.py; the
    reference's components/cni/kubelab_cni/commands/delete.py, Allocator.release in ipam/allocator.py,
    veth.remove_link); look in the store on the node (`docker exec NODE ls /var/lib/cni/networks/kubelab`)
    against `docker exec NODE crictl pods --state ready -q --no-trunc`, and at `docker exec NODE ip -d link
    show master kubelab0`. Two pods with one address: concurrent ADDs race in the allocator (hold the
    store's lock around the read and the write).
    """
    confs = {w: plugin_conf(w) for w in workers}
    before = {w: leaks(w, confs[w]) for w in workers}  # left from earlier: reported, not this checkpoint's
    for w, found in before.items():
        for what in found.values():
            print(f"{w}: before the churn: {what}")
    kube.apply(kubectl, _deployment(cni_network, workers))
    kubectl.run("-n", NS, "rollout", "status", "deployment/churn", "--timeout=180s", timeout=190)
    pods = kubectl.json("-n", NS, "get", "pods", "-l", "app=churn")["items"]
    by_ip: dict[str, list[str]] = {}
    for p in pods:
        by_ip.setdefault(p["status"]["podIP"], []).append(p["metadata"]["name"])
    twice = {ip: names for ip, names in by_ip.items() if len(names) > 1}
    assert not twice, f"one address for more than one pod: {twice}"
    assert len(by_ip) == REPLICAS, f"{len(by_ip)} pod IPs for {REPLICAS} pods"
    churn_ids: dict[str, set[str]] = {}
    churn_veths: dict[str, dict[int, str]] = {}
    for w in workers:
        mine = {p["metadata"]["uid"]: p for p in pods if p["spec"]["nodeName"] == w}
        live = {sb.uid: sb for sb in sandboxes(w).values() if sb.uid in mine}
        assert set(live) == set(mine), f"{w}: {len(mine) - len(live)} churn pods have no Ready sandbox"
        store = read_store(w, store_dir(confs[w]))
        for uid, sb in live.items():
            ip = mine[uid]["status"]["podIP"]
            assert store.entries.get(ip) == (sb.id, "eth0"), (
                f"{w}: {ip} of {sb.pod} is not reserved for its sandbox {sb.id[:16]}.. eth0: {store.raw.get(ip)!r}"
            )
        churn_ids[w] = {sb.id for sb in live.values()}
        names = {v.ifindex: v.name for v in host_veths(w).values()}
        churn_veths[w] = {i: f"{names.get(i, '?')} ({sb.pod})" for sb in live.values() for i in sb.host_ifindexes}
        assert len(churn_veths[w]) == len(live), f"{w}: {len(live)} churn pods, {len(churn_veths[w])} host veths"
    kubectl.run("-n", NS, "delete", "deployment", "churn", "--wait=true")
    kubectl.run("-n", NS, "wait", "--for=delete", "pod", "-l", "app=churn", "--timeout=180s", timeout=190)
    deadline = time.monotonic() + 30
    while True:  # the kubelet's DEL may trail the API object's deletion by a moment
        left: dict[str, str] = {}
        for w in workers:
            left |= {f"{w} {k}": f"{w}: {what}" for k, what in leaks(w, confs[w]).items() if k not in before[w]}
            for ip, (cid, _) in read_store(w, store_dir(confs[w])).entries.items():
                if cid in churn_ids[w]:
                    left[f"{w} ip {ip}"] = f"{w}: {ip} still reserved for {cid[:16]}.. (a deleted churn pod)"
            present = host_veths(w)
            for i, what in churn_veths[w].items():
                if i in present:
                    left[f"{w} veth {present[i].name}"] = f"{w}: veth {what} still there"
        if not left or time.monotonic() > deadline:
            break
        time.sleep(1)
    if left:
        lines = sorted(left.values())
        more = f"\n... and {len(lines) - 12} more" if len(lines) > 12 else ""
        raise AssertionError(f"{len(lines)} left after the churn:\n" + "\n".join(lines[:12]) + more)
