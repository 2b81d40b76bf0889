"""The scheduler lab's setup: the PodGroup CRD and kubelab-scheduler (two replicas of the lab
image, one leading) deployed beside the cluster's kube-scheduler; a namespace per checkpoint
group. The scheduler stays deployed afterwards: it only schedules pods that ask for it."""

from __future__ import annotations

import pytest

from kubelab_cluster.kind.kubectl import Kubectl

from .schedlab import deploy


@pytest.fixture(scope="session")
def scheduler(kubectl: Kubectl, component_image: str) -> str:
    """kubelab-scheduler's two pods are Ready and one holds the Lease.

    Hint: `kubectl -n kubelab-scheduler-system get deploy,pods,lease` and
    `kubectl -n kubelab-scheduler-system logs deploy/kubelab-scheduler` (the leader logs its profiles).
    """
    deploy(kubectl, component_image)
    return component_image
