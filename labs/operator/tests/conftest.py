"""The operator lab's setup: the CRD, the operator (two replicas, the lab image) and the policy
deployed; a namespace the webhooks serve and one where the ValidatingAdmissionPolicy checks
the same rules instead; CronJobs of each concurrency policy started at once, so that the
schedule checkpoints share the same two minutes.

At the end the operator stays deployed (other labs do not mind it) and the lab's namespaces go.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube
from kubelab_labkit.namespaces import MakeNamespace

from .operatorlab import cronjob, deploy, next_minute, sleep_until


@pytest.fixture(scope="session")
def operator(kubectl: Kubectl, component_image: str) -> str:
    """The CRD is Established, the operator's two pods are Ready, the policy is installed. The pods run
    the graded kubelab_operator (--impl, or the reference): the lab image with it first on PYTHONPATH.

    Hint: `kubectl -n kubelab-operator-system get deploy,pods,lease` and
    `kubectl -n kubelab-operator-system logs deploy/kubelab-operator` (each replica logs whether it leads;
    an exception at start names the module of yours that failed to import).
    """
    deploy(kubectl, component_image)
    return component_image


@pytest.fixture(scope="session")
def namespace(make_namespace: MakeNamespace, operator: str) -> str:
    """Where the webhooks default and validate CronJobs."""
    return make_namespace("kubelab-operator-lab")


@pytest.fixture(scope="session")
def policy_namespace(make_namespace: MakeNamespace, operator: str) -> str:
    """Where the webhooks are skipped and the ValidatingAdmissionPolicy validates instead."""
    return make_namespace("kubelab-operator-policy", {"kubelab.dev/cronjob-validation": "policy"})


SCHEDULED = {
    # name: (spec fields, seconds each Job runs)
    "twice": ({"successfulJobsHistoryLimit": 1}, 1),
    "allow": ({"concurrencyPolicy": "Allow"}, 600),
    "forbid": ({"concurrencyPolicy": "Forbid"}, 600),
    "replace": ({"concurrencyPolicy": "Replace"}, 600),
    "suspended": ({"suspend": True}, 1),
}


@pytest.fixture(scope="session")
def scheduled(kubectl: Kubectl, namespace: str, operator: str) -> dict[str, Any]:
    """Five CronJobs scheduled for the same two minutes (the next two full minutes, ``M1,M2 * * * *``,
    so there is no third run while the checkpoints look), made together; returns once both runs are due.

    Hint: `kubectl -n kubelab-operator-lab get kcj,jobs` and the operator leader's log
    (`kubectl -n kubelab-operator-system logs deploy/kubelab-operator`): it logs each decision.
    """
    first = next_minute(lead=8)  # time for the API server to take the five objects before the first run
    runs = [first, first + 60]
    schedule = ",".join(str(time.gmtime(t).tm_min) for t in runs) + " * * * *"
    objs = [
        cronjob(name, namespace, operator, schedule, seconds=secs, **spec) for name, (spec, secs) in SCHEDULED.items()
    ]
    kube.apply(kubectl, *objs)
    sleep_until(runs[1] + 10)  # the second run's Jobs are made within a few seconds
    return {"schedule": schedule, "runs": runs}
