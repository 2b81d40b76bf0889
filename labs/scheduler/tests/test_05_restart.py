"""Checkpoint 9 (book 8.1): the leader killed mid-burst: the standby takes over, no pod is lost, none bound twice."""

from __future__ import annotations

from collections import Counter

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube
from kubelab_labkit.namespaces import MakeNamespace
from kubelab_labkit.waiting import eventually

from .schedlab import SYSTEM_NS, create_all, events, lease_holder, on_workers, pod, pods_in

COUNT = 60


def test_09_leader_killed_mid_burst(kubectl: Kubectl, make_namespace: MakeNamespace, scheduler: str) -> None:
    """60 small pods; once some are bound the leading replica is killed (no grace): the other takes the Lease,
    every pod ends up bound, and no pod was announced Scheduled twice.

    Hint (8.1): binds carry the pod's UID and the API server refuses a second bind; the new leader's
    informers see the bound pods and do not schedule them again (scheduler.py pod_updated).
    """
    ns = make_namespace("kubelab-scheduler-restart")
    leader = lease_holder(kubectl)
    create_all(kubectl, [pod(f"r-{i:02d}", ns, "5m", affinity=on_workers(kubectl)) for i in range(COUNT)])
    eventually(
        lambda: sum(1 for p in pods_in(kubectl, ns) if p["spec"].get("nodeName")) >= 5,
        timeout=60,
        interval=0.2,
        what="the first binds",
    )
    kubectl.run("-n", SYSTEM_NS, "delete", "pod", leader, "--grace-period=0", "--force", "--wait=false")
    eventually(lambda: lease_holder(kubectl) not in ("", leader), timeout=40, what="the standby to lead")
    eventually(
        lambda: all(p["spec"].get("nodeName") for p in pods_in(kubectl, ns)),
        timeout=120,
        what=f"all {COUNT} pods bound",
    )
    announced = Counter(e["regarding"]["name"] for e in events(kubectl, ns, "Scheduled"))
    assert not [n for n, c in announced.items() if c > 1], announced.most_common(3)
    kube.rollout(kubectl, "deployment/kubelab-scheduler", namespace=SYSTEM_NS, timeout=120)
