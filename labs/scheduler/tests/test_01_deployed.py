"""Checkpoint 1 (book 8.1): a second scheduler beside kube-scheduler, two replicas, one leading."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.waiting import eventually

from .schedlab import SYSTEM_NS, lease_holder


def test_01_two_replicas_one_leader(kubectl: Kubectl, scheduler: str) -> None:
    """Both pods Ready (a standby is ready too), the Lease kubelab-scheduler held by one of them.

    Hint (8.1): components/scheduler/kubelab_scheduler/cli.py (leader election through
    kubelab_client.leaderelection.leading); `kubectl -n kubelab-scheduler-system get lease kubelab-scheduler -o yaml`.
    """
    pods = kubectl.json("-n", SYSTEM_NS, "get", "pods", "-l", "app=kubelab-scheduler")["items"]
    names = {p["metadata"]["name"] for p in pods if "deletionTimestamp" not in p["metadata"]}
    assert len(names) == 2, names
    holder = eventually(
        lambda: lease_holder(kubectl) in names and lease_holder(kubectl), timeout=30, what="a replica to hold the Lease"
    )
    assert holder in names
