"""Checkpoint 6 (book 8.1, 8.2): a burst of 200 pods, more than the workers hold, never overcommits."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.namespaces import MakeNamespace
from kubelab_labkit.nodes import workers
from kubelab_labkit.waiting import eventually

from .schedlab import allocatable_cpu, create_all, free_cpu, notes, on_workers, pod, pods_in, requested_cpu, scratch

BURST = 200


def test_06_burst_never_overcommits(kubectl: Kubectl, make_namespace: MakeNamespace, scheduler: str) -> None:
    """200 pods created at once, each asking for a share that makes the burst 1.5 times what the workers
    have free: the workers fill up to their allocatable CPU and not one millicore more (assumed pods
    count while binds are in flight), every bound pod is admitted by its kubelet, and the rest stay
    Pending with "Insufficient cpu".

    Hint (8.1): cache.py (assume before the bind, forget on failure, confirm on the informer's add) and
    scheduler.py schedule_one; `kubectl describe node` shows "Allocated resources".
    """
    with scratch(kubectl, make_namespace, "kubelab-scheduler-burst") as ns:
        check_burst(kubectl, ns)


def check_burst(kubectl: Kubectl, ns: str) -> None:
    names = workers(kubectl)
    room = sum(free_cpu(kubectl)[n] for n in names)
    share = max(5, int(room * 1.5 / BURST))
    create_all(kubectl, [pod(f"burst-{i:03d}", ns, f"{share}m", affinity=on_workers(kubectl)) for i in range(BURST)])

    def settled() -> list[dict[str, object]]:
        pods = pods_in(kubectl, ns)
        bound = [p for p in pods if p["spec"].get("nodeName")]
        pending = [p for p in pods if not p["spec"].get("nodeName")]
        told = all(any("Insufficient cpu" in n for n in notes(kubectl, ns, p["metadata"]["name"])) for p in pending[:5])
        return bound if len(pods) == BURST and pending and told else []

    bound = eventually(settled, timeout=240, interval=2, what="the burst bound, the rest told why")
    allocatable, used = allocatable_cpu(kubectl), requested_cpu(kubectl)
    for name in names:
        assert used.get(name, 0) <= allocatable[name], (
            f"{name} overcommitted: {used.get(name)}m of {allocatable[name]}m"
        )
        assert allocatable[name] - used.get(name, 0) < share, f"{name} left room for another pod unused"
    rejected = [p for p in pods_in(kubectl, ns) if (p.get("status") or {}).get("reason") in ("OutOfcpu", "OutOfpods")]
    assert not rejected, f"the kubelet refused {len(rejected)} bound pods: {rejected[0]['status']}"
    assert len(bound) < BURST
