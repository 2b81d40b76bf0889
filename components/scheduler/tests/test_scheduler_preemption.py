"""Preemption on a real API server (envtest): a high-priority pod that fits nowhere evicts the fewest
lower-priority pods on one node, is nominated there and binds once they are gone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kubelab_client.kube import Api
from kubelab_client.resources import PODS, Resource
from kubelab_client.testing.envtest import ControlPlane
from kubelab_kit.testing import eventually
from kubelab_scheduler.scheduler import Scheduler

from .builders import node, pod
from .cluster import create, events_of, listed, make_node, namespace

PRIORITY_CLASSES = Resource("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", namespaced=False)
POOL = {"key": "pool", "value": "preempt", "effect": "NoSchedule"}
TOLERATE = [{"key": "pool", "operator": "Equal", "value": "preempt", "effect": "NoSchedule"}]


@pytest.fixture(scope="module")
def api(control_plane: ControlPlane) -> Iterator[Api]:
    client = control_plane.api()
    for name, value, policy in (
        ("kubelab-low", 10, None),
        ("kubelab-high", 1000, None),
        ("kubelab-high-polite", 1000, "Never"),
    ):
        body = {"metadata": {"name": name}, "value": value, **({"preemptionPolicy": policy} if policy else {})}
        client.create(PRIORITY_CLASSES, body)
    make_node(client, node("preempt-1", cpu="1", memory="4Gi", labels={"pool": "preempt"}, taints=[POOL]))
    yield client
    client.close()


def member(name: str, cpu: str, priority_class: str, **spec: object) -> dict[str, object]:
    p = pod(
        name,
        cpu,
        tolerations=TOLERATE,
        nodeSelector={"pool": "preempt"},
        priorityClassName=priority_class,
        terminationGracePeriodSeconds=0,
        **spec,
    )
    del p["spec"]["priority"]  # the Priority admission plugin sets it from the class
    return p


def test_a_high_priority_pod_evicts_the_fewest_lower_ones(api: Api, scheduler: Scheduler) -> None:
    ns = namespace(api, "preemption")
    for i in range(2):
        create(api, member(f"low-{i}", "450m", "kubelab-low"), ns)
    eventually(
        lambda: all(p["spec"].get("nodeName") for p in listed(api, ns)) and len(listed(api, ns)) == 2,
        what="the low-priority pods bound",
    )
    never = member("polite", "400m", "kubelab-high-polite")  # the class says preemptionPolicy: Never
    create(api, never, ns)
    said = eventually(
        lambda: [e["note"] for e in events_of(api, ns, "polite") if e["reason"] == "FailedScheduling"],
        what="polite refused",
    )
    assert "preemption: not eligible due to preemptionPolicy=Never." in said[0]
    create(api, member("high", "400m", "kubelab-high"), ns)
    bound = eventually(lambda: api.get(PODS, "high", ns)["spec"].get("nodeName"), what="high bound")
    assert bound == "preempt-1"
    low_left = [p["metadata"]["name"] for p in listed(api, ns) if p["metadata"]["name"].startswith("low-")]
    assert len(low_left) == 1, f"one victim is enough (450m + 400m fit in 1 CPU): {low_left}"
    assert api.get(PODS, "high", ns).get("status", {}).get("nominatedNodeName") in (None, "preempt-1")
    assert not api.get(PODS, "polite", ns)["spec"].get("nodeName")
