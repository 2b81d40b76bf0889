"""Checkpoints 7-8 (book 8.5): gangs bind all together or not at all, on the real nodes, for
kubelab-scheduler (its PodGroup, scheduling.kubelab.dev) and, side by side, for the cluster's
kube-scheduler 1.37 with its own gang scheduling (the Workload API's PodGroup, scheduling.k8s.io/v1beta1,
the GangScheduling plugin; cluster/kind.yaml turns on GenericWorkload)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_kit.testing import settled
from kubelab_labkit import kube
from kubelab_labkit.namespaces import MakeNamespace
from kubelab_labkit.nodes import workers
from kubelab_labkit.waiting import eventually
from kubelab_scheduler.gang.podgroups import LABEL

from .schedlab import free_cpu, notes, pod, podgroup, pods_in, scratch

GANG = "kubelab.dev/gang"  # which gang a pod is in, for counting, whichever scheduler places it
KUBE_PODGROUPS = "podgroups.v1beta1.scheduling.k8s.io"


@dataclass(frozen=True)
class Gangs:
    """One scheduler's way of expressing a gang: its PodGroup, how a pod joins, how "scheduled" shows."""

    scheduler: str
    group: Callable[[str, str, int], dict[str, Any]]
    join: Callable[[dict[str, Any], str], None]
    scheduled: Callable[[Kubectl, str, str], bool]
    waiting: str  # what a waiting member's FailedScheduling event says ({ns} and {gang} filled in)


def _kubelab_join(obj: dict[str, Any], gang: str) -> None:
    obj["metadata"]["labels"][LABEL] = gang


def _kubelab_scheduled(kubectl: Kubectl, ns: str, gang: str) -> bool:
    return (kubectl.json("-n", ns, "get", "kpg", gang).get("status") or {}).get("phase") == "Scheduled"


def _kube_group(name: str, ns: str, min_count: int) -> dict[str, Any]:
    return {
        "apiVersion": "scheduling.k8s.io/v1beta1",
        "kind": "PodGroup",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"schedulingPolicy": {"gang": {"minCount": min_count}}},
    }


def _kube_join(obj: dict[str, Any], gang: str) -> None:
    obj["spec"]["schedulerName"] = "default-scheduler"
    obj["spec"]["schedulingGroup"] = {"podGroupName": gang}


def _kube_scheduled(kubectl: Kubectl, ns: str, gang: str) -> bool:
    conditions = (kubectl.json("-n", ns, "get", KUBE_PODGROUPS, gang).get("status") or {}).get("conditions") or []
    return any(c["type"] == "PodGroupInitiallyScheduled" and c["status"] == "True" for c in conditions)


KUBELAB = Gangs(
    "kubelab-scheduler",
    podgroup,
    _kubelab_join,
    _kubelab_scheduled,
    "not enough room for pod group {ns}/{gang}: its 3 remaining members do not all fit",
)
KUBE_SCHEDULER = Gangs("kube-scheduler", _kube_group, _kube_join, _kube_scheduled, "minCount (3) cannot be satisfied")
BOTH = pytest.mark.parametrize("gangs", [KUBELAB, KUBE_SCHEDULER], ids=lambda g: g.scheduler)


def bound(kubectl: Kubectl, ns: str, gang: str) -> int:
    return sum(
        1
        for p in pods_in(kubectl, ns)
        if (p["metadata"].get("labels") or {}).get(GANG) == gang and p["spec"].get("nodeName")
    )


def settle(kubectl: Kubectl, ns: str, gangs: tuple[str, ...]) -> dict[str, int]:
    """Binds per gang once nothing changed for 6 s."""
    return settled(lambda: {g: bound(kubectl, ns, g) for g in gangs}, quiet=6, timeout=90, interval=0.5, what="binds")


def sized(kubectl: Kubectl) -> tuple[str, str, int, int]:
    """The two workers, a member size that fits twice on each (4 in all), and the first worker's free room."""
    w1, w2 = workers(kubectl)
    free = free_cpu(kubectl)
    member = min(free[w1], free[w2]) // 2 - 20
    assert member >= 100, f"the workers are too full for this checkpoint: {free}"
    return w1, w2, member, free[w1]


def member(name: str, ns: str, cpu: int, nodes: list[str], gang: str = "", gangs: Gangs = KUBELAB) -> dict[str, Any]:
    """A pod of ``cpu`` millicores kept to ``nodes``; in ``gang`` (when named) as ``gangs`` expresses it."""
    term = {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": nodes}]}
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}
    obj = pod(name, ns, f"{cpu}m", affinity=affinity)
    if gang:
        obj["metadata"]["labels"][GANG] = gang
        gangs.join(obj, gang)
    return obj


@BOTH
def test_07_gang_waits_for_room_then_binds_whole(
    kubectl: Kubectl, make_namespace: MakeNamespace, scheduler: str, gangs: Gangs
) -> None:
    """A gang of 3 where only 2 fit (a blocker fills the first worker) binds none, saying why; when the
    blocker goes, all 3 bind and the PodGroup says Scheduled. The same for kube-scheduler's gangs.

    Hint (8.4, 8.5): gang/coscheduling.py (pre_filter's whole-gang fit, permit, unreserve), queue.py (moved back
    when a bound pod is deleted);
    `kubectl -n kubelab-scheduler-gang get kpg,pods -o wide` (kube-scheduler's: `get podgroups.scheduling.k8s.io`).
    """
    with scratch(kubectl, make_namespace, f"kubelab-{gangs.scheduler}-gang") as ns:
        gang_waits_for_room(kubectl, ns, gangs)


def gang_waits_for_room(kubectl: Kubectl, ns: str, gangs: Gangs) -> None:
    w1, w2, size, free_w1 = sized(kubectl)
    kube.apply(kubectl, member("blocker", ns, free_w1 - size // 2, [w1]))
    eventually(
        lambda: kubectl.json("-n", ns, "get", "pod", "blocker")["spec"].get("nodeName"),
        timeout=30,
        what="the blocker bound",
    )
    members = [member(f"g-{i}", ns, size, [w1, w2], "g", gangs) for i in range(3)]
    kube.apply(kubectl, gangs.group("g", ns, 3), *members)
    assert settle(kubectl, ns, ("g",)) == {"g": 0}

    def told() -> list[str]:
        return [n for i in range(3) for n in notes(kubectl, ns, f"g-{i}")]

    expected = gangs.waiting.format(ns=ns, gang="g")
    said = settled(told, quiet=3, timeout=40, interval=0.5, what="the members' FailedScheduling events")
    assert any(expected in n for n in said), said
    kubectl.run("-n", ns, "delete", "pod", "blocker", "--grace-period=0", "--force")
    assert eventually(lambda: bound(kubectl, ns, "g") == 3, timeout=60, what="the whole gang bound")
    assert eventually(lambda: gangs.scheduled(kubectl, ns, "g"), timeout=30, what="the PodGroup Scheduled")


@BOTH
def test_08_competing_gangs_one_whole_one_waiting(
    kubectl: Kubectl, make_namespace: MakeNamespace, scheduler: str, gangs: Gangs
) -> None:
    """Two gangs of 3, room for 4 members, created interleaved: one gang binds whole, the other binds
    nothing and holds nothing (never partial, no deadlock). The same for kube-scheduler's gangs.

    Hint (8.5): the README's "Why two gangs cannot deadlock here"; gang/coscheduling.py _whole_gang_fits.
    """
    with scratch(kubectl, make_namespace, f"kubelab-{gangs.scheduler}-gangs") as ns:
        competing_gangs(kubectl, ns, gangs)


def competing_gangs(kubectl: Kubectl, ns: str, gangs: Gangs) -> None:
    w1, w2, size, _ = sized(kubectl)
    objs: list[dict[str, Any]] = [gangs.group("a", ns, 3), gangs.group("b", ns, 3)]
    for i in range(3):
        objs += [member(f"{g}-{i}", ns, size, [w1, w2], g, gangs) for g in ("a", "b")]
    kube.apply(kubectl, *objs)
    final = settle(kubectl, ns, ("a", "b"))
    assert sorted(final.values()) == [0, 3], final
