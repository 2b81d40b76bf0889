"""Checkpoint 13 (book 8.5): a high-priority gang that cannot fit evicts lower-priority pods, the
fewest that let the whole gang fit, and binds whole (Coscheduling's post-filter)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube
from kubelab_labkit.namespaces import MakeNamespace
from kubelab_labkit.waiting import eventually

from .schedlab import pods_in, scratch
from .test_04_gang import BOTH, KUBE_SCHEDULER, Gangs, bound, member, settle, sized

LOW, HIGH = "kubelab-scheduler-low", "kubelab-scheduler-high"
# below every other pod (priority 0 unless a class says more): the victims' reprieve gives back the
# most important first, so other labs' pods on the workers are never this checkpoint's victims
LOW_VALUE, HIGH_VALUE = -10, 1000


@pytest.fixture(scope="module")
def priority_classes(kubectl: Kubectl) -> Iterator[None]:
    classes = [
        {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": n}, "value": v}
        for n, v in ((LOW, LOW_VALUE), (HIGH, HIGH_VALUE))
    ]
    kube.apply(kubectl, *classes)
    yield
    kube.delete(kubectl, *classes)


def with_priority(obj: dict[str, Any], priority_class: str) -> dict[str, Any]:
    obj["spec"]["priorityClassName"] = priority_class
    return obj


@BOTH
def test_13_gang_preemption(
    kubectl: Kubectl, make_namespace: MakeNamespace, scheduler: str, priority_classes: None, gangs: Gangs
) -> None:
    """Four low-priority pods fill the workers (two each); a high-priority gang of three of the same size
    evicts exactly three of them, then binds whole; the fourth low pod keeps running. The same for
    kube-scheduler's gangs (its pod-group preemption; the PodGroup carries the gang's priority class).

    Hint (8.5): gang/coscheduling.py post_filter and _preemption_plan (remove every lower-priority pod,
    then give back, most important first, while the whole gang still fits), plugins/defaultpreemption.py
    delete_victims and nominate; `kubectl -n kubelab-scheduler-preempt get pods -o wide -w`.
    """
    with scratch(kubectl, make_namespace, f"kubelab-{gangs.scheduler}-preempt") as ns:
        w1, w2, size, _ = sized(kubectl)
        low = [with_priority(member(f"low-{i}", ns, size, [w]), LOW) for i, w in enumerate((w1, w1, w2, w2))]
        kube.apply(kubectl, *low)
        eventually(
            lambda: all(p["spec"].get("nodeName") for p in pods_in(kubectl, ns)), timeout=60, what="the low pods bound"
        )
        gang = [with_priority(member(f"g-{i}", ns, size, [w1, w2], "g", gangs), HIGH) for i in range(3)]
        group = gangs.group("g", ns, 3)
        if gangs is KUBE_SCHEDULER:  # its members must have the group's priority
            group["spec"]["priorityClassName"] = HIGH
        kube.apply(kubectl, group, *gang)
        assert eventually(lambda: bound(kubectl, ns, "g") == 3, timeout=90, what="the whole gang bound")
        assert settle(kubectl, ns, ("g",)) == {"g": 3}
        left = [p["metadata"]["name"] for p in pods_in(kubectl, ns) if p["metadata"]["name"].startswith("low-")]
        assert len(left) == 1, f"three victims make room for three members, not more: {left} left"
