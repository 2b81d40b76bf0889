"""Checkpoints 7-8 (book 8.5): gangs bind all together or not at all, on the real nodes."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_kit.testing import settled
from kubelab_labkit import kube
from kubelab_labkit.namespaces import MakeNamespace
from kubelab_labkit.nodes import workers
from kubelab_labkit.waiting import eventually
from kubelab_scheduler.gang.podgroups import LABEL

from .schedlab import free_cpu, notes, pod, podgroup, pods_in, scratch


def bound(kubectl: Kubectl, ns: str, gang: str) -> int:
    return sum(
        1
        for p in pods_in(kubectl, ns)
        if (p["metadata"].get("labels") or {}).get(LABEL) == gang and p["spec"].get("nodeName")
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


def member(name: str, ns: str, gang: str, cpu: int, nodes: list[str]) -> dict[str, object]:
    term = {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": nodes}]}
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}
    return pod(name, ns, f"{cpu}m", gang=gang, affinity=affinity)


def test_07_gang_waits_for_room_then_binds_whole(
    kubectl: Kubectl, make_namespace: MakeNamespace, scheduler: str
) -> None:
    """A gang of 3 where only 2 fit (a blocker fills the first worker) binds none, saying why; when the
    blocker goes, all 3 bind and the PodGroup says Scheduled.

    Hint (8.4, 8.5): gang/coscheduling.py (pre_filter's whole-gang fit, permit, unreserve), queue.py (moved back
    when a bound pod is deleted);
    `kubectl -n kubelab-scheduler-gang get kpg,pods -o wide`.
    """
    with scratch(kubectl, make_namespace, "kubelab-scheduler-gang") as ns:
        gang_waits_for_room(kubectl, ns)


def gang_waits_for_room(kubectl: Kubectl, ns: str) -> None:
    w1, w2, size, free_w1 = sized(kubectl)
    blocker = member("blocker", ns, "", free_w1 - size // 2, [w1])
    blocker["metadata"]["labels"] = {}
    kube.apply(kubectl, blocker)
    eventually(
        lambda: kubectl.json("-n", ns, "get", "pod", "blocker")["spec"].get("nodeName"),
        timeout=30,
        what="the blocker bound",
    )
    kube.apply(kubectl, podgroup("g", ns, 3), *[member(f"g-{i}", ns, "g", size, [w1, w2]) for i in range(3)])
    assert settle(kubectl, ns, ("g",)) == {"g": 0}

    def told() -> list[str]:
        return [n for i in range(3) for n in notes(kubectl, ns, f"g-{i}")]

    expected = f"not enough room for pod group {ns}/g: its 3 remaining members do not all fit"
    said = settled(told, quiet=3, timeout=40, interval=0.5, what="the members' FailedScheduling events")
    assert any(expected in n for n in said), said
    kubectl.run("-n", ns, "delete", "pod", "blocker", "--grace-period=0", "--force")
    assert eventually(lambda: bound(kubectl, ns, "g") == 3, timeout=60, what="the whole gang bound")
    pg = eventually(
        lambda: (kubectl.json("-n", ns, "get", "kpg", "g").get("status") or {}).get("phase") == "Scheduled",
        timeout=30,
        what="the PodGroup Scheduled",
    )
    assert pg


def test_08_competing_gangs_one_whole_one_waiting(
    kubectl: Kubectl, make_namespace: MakeNamespace, scheduler: str
) -> None:
    """Two gangs of 3, room for 4 members, created interleaved: one gang binds whole, the other binds
    nothing and holds nothing (never partial, no deadlock).

    Hint (8.5): the README's "Why two gangs cannot deadlock here"; gang/coscheduling.py _whole_gang_fits.
    """
    with scratch(kubectl, make_namespace, "kubelab-scheduler-gangs") as ns:
        competing_gangs(kubectl, ns)


def competing_gangs(kubectl: Kubectl, ns: str) -> None:
    w1, w2, size, _ = sized(kubectl)
    objs: list[dict[str, object]] = [podgroup("a", ns, 3), podgroup("b", ns, 3)]
    for i in range(3):
        objs += [member(f"a-{i}", ns, "a", size, [w1, w2]), member(f"b-{i}", ns, "b", size, [w1, w2])]
    kube.apply(kubectl, *objs)
    final = settle(kubectl, ns, ("a", "b"))
    assert sorted(final.values()) == [0, 3], final
