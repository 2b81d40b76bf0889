"""DefaultPreemption: when no node fits a pod, make room by evicting lower-priority pods (a post-filter,
upstream ``plugins/defaultpreemption``).

For each node the filters rejected as *resolvable* (not a taint or affinity: removing pods
cannot change those), remove every pod of lower priority, and check the pod fits there (the
profile's pre-filter and filters on that node); then give back ("reprieve") as many victims as
possible, highest priority first, keeping the fit. Among the nodes that work, the one whose
most important victim has the lowest priority wins, then the one with fewest victims. The
victims are deleted (their grace period honoured) and the pod's ``status.nominatedNodeName``
is set; it is retried when the victims' deletes arrive.

The messages are upstream's: "preemption: 0/3 nodes are available: 1 Preemption is not helpful
for scheduling, 2 No preemption victims found for incoming pod."; a pod with
``preemptionPolicy: Never`` never preempts.

While the victims terminate, the nominated pod's room is kept: later cycles of pods with the
same or lower priority see the nominated pod on that node (``Scheduler.nominate``). Not here
(yet): PodDisruptionBudgets.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from kubelab_client.errors import ApiError, ClientError
from kubelab_client.resources import PODS
from kubelab_scheduler import pods
from kubelab_scheduler.framework.interface import CycleState, Pod
from kubelab_scheduler.framework.runtime import Handle
from kubelab_scheduler.framework.status import Code, Status
from kubelab_scheduler.nodeinfo import NodeInfo

log = logging.getLogger(__name__)
NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"


class DefaultPreemption:
    name = "DefaultPreemption"

    def __init__(self, args: dict[str, Any], handle: Handle) -> None:
        self.handle = handle

    def post_filter(self, state: CycleState, pod: Pod, statuses: Mapping[str, Status]) -> tuple[str | None, Status]:
        if (pod.get("spec") or {}).get("preemptionPolicy") == "Never":
            return None, Status.unschedulable("preemption: not eligible due to preemptionPolicy=Never.")
        snapshot = dict(self.handle.snapshot())
        reasons: dict[str, int] = {}
        best: tuple[tuple[int, int], str, list[Mapping[str, Any]]] | None = None
        for name, info in snapshot.items():
            status = statuses.get(name)
            if status is None or status.code is not Code.UNSCHEDULABLE:
                reasons[NOT_HELPFUL] = reasons.get(NOT_HELPFUL, 0) + 1
                continue
            victims = self.victims(pod, info, snapshot)
            if victims is None:
                reasons[NO_VICTIMS] = reasons.get(NO_VICTIMS, 0) + 1
                continue
            rank = (max(pods.priority(v) for v in victims), len(victims))
            if best is None or rank < best[0]:
                best = (rank, name, victims)
        if best is None:
            histogram = ", ".join(sorted(f"{n} {r}" for r, n in reasons.items()))
            return None, Status.unschedulable(f"preemption: 0/{len(snapshot)} nodes are available: {histogram}")
        _, node, victims = best
        self.evict(pod, node, victims)
        return node, Status()

    def victims(self, pod: Pod, info: NodeInfo, snapshot: Mapping[str, NodeInfo]) -> list[Mapping[str, Any]] | None:
        """The fewest lower-priority pods whose removal lets ``pod`` fit on the node, or None."""
        lower = sorted(
            (p for p in info.pods.values() if pods.priority(p) < pods.priority(pod)), key=pods.priority, reverse=True
        )
        if not lower:
            return None
        trial = info.copy()
        for victim in lower:
            trial.remove_pod(victim)
        if not self.fits(pod, trial, snapshot):
            return None
        victims = []
        for candidate in lower:  # reprieve, most important first
            trial.add_pod(candidate)
            if not self.fits(pod, trial, snapshot):
                trial.remove_pod(candidate)
                victims.append(candidate)
        return victims

    def fits(self, pod: Pod, node: NodeInfo, snapshot: Mapping[str, NodeInfo]) -> bool:
        fwk = self.handle.framework_for(pod)
        if fwk is None:
            return False
        state: CycleState = {}
        nodes = [node if n == node.name else info for n, info in snapshot.items()]
        result, status = fwk.run_pre_filter(state, pod, nodes)
        if not status.is_success or (result.node_names is not None and node.name not in result.node_names):
            return False
        return bool(fwk.run_filter(state, pod, node).is_success)

    def evict(self, pod: Pod, node: str, victims: list[Mapping[str, Any]]) -> None:
        delete_victims(self.handle, pod, victims)
        nominate(self.handle, pod, node)


def delete_victims(handle: Handle, pod: Pod, victims: list[Mapping[str, Any]]) -> None:
    """Delete each victim (its grace period honoured; the UID as precondition: never a namesake)."""
    for victim in victims:
        meta = victim.get("metadata") or {}
        log.info("preempting %s on %s for %s", pods.key(victim), pods.node_name(victim), pods.key(pod))
        try:
            handle.api.request(
                "DELETE",
                PODS.object_path(str(meta.get("name")), str(meta.get("namespace"))),
                body={"apiVersion": "v1", "kind": "DeleteOptions", "preconditions": {"uid": meta.get("uid")}},
            )
        except ApiError as exc:
            if not exc.is_not_found and not exc.is_conflict:
                log.warning("could not preempt %s: %s", pods.key(victim), exc)


def nominate(handle: Handle, pod: Pod, node: str) -> None:
    """Keep ``node``'s freed room for ``pod`` (in the scheduler) and say so (``status.nominatedNodeName``)."""
    handle.nominate(pod, node)
    meta = pod.get("metadata") or {}
    try:
        handle.api.patch(
            PODS,
            str(meta.get("name")),
            {"status": {"nominatedNodeName": node}},
            str(meta.get("namespace")),
            subresource="status",
        )
    except ClientError as exc:
        log.warning("could not nominate %s for %s: %s", node, pods.key(pod), exc)
