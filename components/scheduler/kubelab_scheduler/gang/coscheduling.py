"""Coscheduling: a PodGroup's pods bind all together or not at all (book 8.5).

- **PreFilter** refuses a member while its group has fewer than ``minMember`` pods, or no
  PodGroup; and, before the group holds anything, unless *all* its remaining members fit the
  cluster now, counting the room that gangs already holding reservations still need
  (a first-fit placement of copies of this pod on the snapshot). So a gang starts to reserve
  only when it can finish: two gangs competing for room never hold half each (no deadlock),
  the one that cannot fit waits holding nothing.
- **Permit** holds each member (WAIT, up to ``scheduleTimeoutSeconds``) until ``minMember``
  members are assumed, then allows them all at once: their binds go out together.
- **Unreserve**: when one member is rejected or times out, every waiting sibling is rejected
  too, so their reservations are released and nothing binds partially; the group then backs
  off for a few seconds so it does not grab the room again at once.
- **PostFilter** (gang preemption): a gang refused for room evicts lower-priority pods that
  are in no gang, the fewest that let *all* its remaining members fit (every such pod removed,
  then given back, most important first, while the whole gang still fits), and nominates each
  waiting member to the node the trial placement gave it, so the room is kept for the gang.
  If removing them all would not do, nothing is evicted: no victim dies for half a gang.
- **PostBind** writes the group's status (``scheduled``, ``phase``).

The group's pods come from the scheduler's pod informer (an index by group); PodGroups from
an informer of their own, started with the scheduler's.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from kubelab_client.errors import ClientError
from kubelab_client.informer import HandlerFuncs, SharedInformer
from kubelab_client.listwatch import ListWatch
from kubelab_scheduler import pods
from kubelab_scheduler.framework.interface import CycleState, Pod, PreFilterResult
from kubelab_scheduler.framework.runtime import Handle
from kubelab_scheduler.framework.status import Code, Status
from kubelab_scheduler.gang.podgroups import PODGROUPS, PodGroup, group_key
from kubelab_scheduler.nodeinfo import NodeInfo
from kubelab_scheduler.plugins.defaultpreemption import delete_victims, nominate
from kubelab_scheduler.plugins.nodeaffinity import NodeAffinity
from kubelab_scheduler.plugins.noderesources import insufficient
from kubelab_scheduler.plugins.nodeunschedulable import NodeUnschedulable
from kubelab_scheduler.plugins.tainttoleration import TaintToleration
from kubelab_scheduler.resources import Resources, pod_requests

log = logging.getLogger(__name__)
NAME = "Coscheduling"
BACKOFF = 3.0  # seconds a rejected gang waits before it may reserve again
NO_ROOM = "coscheduling/no-room"  # cycle state: the members still to place when the whole gang did not fit
Trial = dict[str, NodeInfo]


class Coscheduling:
    name = NAME

    def __init__(self, args: dict[str, Any], handle: Handle) -> None:
        self.handle = handle
        self.backoff = float(args.get("permitBackoffSeconds", BACKOFF))
        self._groups: SharedInformer | None = None
        self._denied: dict[str, float] = {}  # group -> monotonic time until which it waits
        self._lock = threading.Lock()
        self.clock: Callable[[], float] = time.monotonic

    # -- informers -----------------------------------------------------------------------------
    def start(self, stop: threading.Event) -> SharedInformer:
        self._groups = SharedInformer(ListWatch(self.handle.api, PODGROUPS), name="podgroups")

        def changed(*_: Any) -> None:  # a PodGroup made or changed: its waiting members get another try
            self.handle.requeue("PodGroupChange")

        self._groups.add_event_handler(HandlerFuncs(changed, changed))
        self._groups.start(stop)
        return self._groups

    def group(self, key: str) -> PodGroup | None:
        if self._groups is None:
            return None
        found = self._groups.indexer.get_by_key(key)
        return PodGroup.of(found) if found else None

    def members(self, key: str) -> list[Mapping[str, Any]]:
        return [p for p in self.handle.pods_in_group(key) if not pods.is_terminal(p) and not pods.is_deleting(p)]

    def _placed(self, key: str) -> set[str]:
        """Members assumed or bound (in the cache) or waiting at permit, by pod key."""
        placed = {
            pods.key(p) for info in self.handle.snapshot().values() for p in info.pods.values() if group_key(p) == key
        }
        placed |= {pods.key(w.pod) for w in self.handle.waiting if group_key(w.pod) == key}
        return placed

    # -- extension points ----------------------------------------------------------------------
    def pre_filter(self, state: CycleState, pod: Pod, nodes: list[NodeInfo]) -> tuple[PreFilterResult | None, Status]:
        key = group_key(pod)
        if key is None:
            return None, Status(Code.SKIP)
        group = self.group(key)
        if group is None:
            return None, Status.unschedulable(f"PodGroup {key} not found", resolvable=False)
        with self._lock:
            until = self._denied.get(key, 0.0)
        if until > self.clock():
            return None, Status.unschedulable(f"pod group {key} is backing off after a rejection", resolvable=False)
        total = len(self.members(key))
        if total < group.min_member:
            return None, Status.unschedulable(
                f"pre-filter pod {pods.key(pod)} cannot find enough sibling pods, current pods number: {total}, "
                f"minMember of group: {group.min_member}",
                resolvable=False,
            )
        placed = self._placed(key)
        remaining = group.min_member - len(placed)
        if remaining > 0 and not placed and self._gang_placement(key, pod, remaining, _trial(nodes)) is None:
            state[NO_ROOM] = remaining
            return None, Status.unschedulable(
                f"not enough room for pod group {key}: its {remaining} remaining members do not all fit",
                resolvable=False,
            )
        return None, Status()

    def post_filter(self, state: CycleState, pod: Pod, statuses: Mapping[str, Status]) -> tuple[str | None, Status]:
        key, remaining = group_key(pod), int(state.get(NO_ROOM, 0))
        if key is None or remaining <= 0:
            return None, Status.unschedulable("")
        if (pod.get("spec") or {}).get("preemptionPolicy") == "Never":
            return None, Status.unschedulable(
                f"gang preemption: pod group {key} may not preempt (preemptionPolicy=Never)."
            )
        plan = self._preemption_plan(key, pod, remaining)
        if plan is None:
            return None, Status.unschedulable(
                f"gang preemption: evicting every lower-priority pod would not make room for the {remaining} "
                f"remaining members of pod group {key}."
            )
        victims, placement = plan
        delete_victims(self.handle, pod, victims)
        placed = self._placed(key)
        waiting = [pod] + [
            p for p in self.members(key) if not pods.node_name(p) and pods.key(p) not in placed | {pods.key(pod)}
        ]
        for member, node in zip(waiting, placement, strict=False):
            nominate(self.handle, member, node)
        log.info("pod group %s: %d victims for %d members on %s", key, len(victims), remaining, ", ".join(placement))
        return placement[0], Status()

    def permit(self, state: CycleState, pod: Pod, node: str) -> tuple[Status, float]:
        key = group_key(pod)
        if key is None:
            return Status(), 0.0
        group = self.group(key)
        if group is None:
            return Status.unschedulable(f"PodGroup {key} not found"), 0.0
        placed = self._placed(key)  # this pod is assumed: counted
        if len(placed) >= group.min_member:
            for waiting in self.handle.waiting:
                if group_key(waiting.pod) == key:
                    waiting.allow(NAME)
            return Status(), 0.0
        return Status(Code.WAIT), group.timeout

    def reserve(self, state: CycleState, pod: Pod, node: str) -> Status:
        return Status()

    def unreserve(self, state: CycleState, pod: Pod, node: str) -> None:
        key = group_key(pod)
        if key is None:
            return
        with self._lock:
            self._denied[key] = self.clock() + self.backoff
        for waiting in self.handle.waiting:
            if group_key(waiting.pod) == key and pods.key(waiting.pod) != pods.key(pod):
                waiting.reject(NAME, f"rejected: a sibling of pod group {key} was rejected")

    def post_bind(self, state: CycleState, pod: Pod, node: str) -> None:
        key = group_key(pod)
        group = self.group(key) if key else None
        if group is None:
            return
        # placed members (assumed or bound, from the cache): siblings bind in parallel, so the informer
        # may not have seen their binds yet
        scheduled = sum(
            1 for info in self.handle.snapshot().values() for p in info.pods.values() if group_key(p) == group.key
        )
        phase = "Scheduled" if scheduled >= group.min_member else "Scheduling"
        try:
            self.handle.api.patch(
                PODGROUPS,
                group.name,
                {"status": {"scheduled": scheduled, "phase": phase}},
                group.namespace,
                subresource="status",
            )
        except ClientError as exc:
            log.warning("PodGroup %s status not written: %s", group.key, exc)

    def events_to_register(self) -> set[str]:
        return {"NodeAdd", "NodeUpdate", "AssignedPodDelete", "PodGroupChange"}

    # -- inside --------------------------------------------------------------------------------
    def _gang_placement(self, key: str, pod: Pod, remaining: int, trial: Trial) -> list[str] | None:
        """Nodes for ``remaining`` copies of ``pod`` (first fit, on the trial copies, which then hold
        them), after the room that gangs holding reservations still need; None if they do not fit."""
        for template, needed in self._started_gangs(exclude=key).values():
            if _place(template, needed, trial) is None:
                break  # they do not fit either: whatever is left is all there is
        return _place(pod, remaining, trial)

    def _preemption_plan(self, key: str, pod: Pod, remaining: int) -> tuple[list[Pod], list[str]] | None:
        """The victims (lower priority, in no gang; the fewest, most important given back first) and
        the members' nodes; None when even evicting them all leaves no room for the whole gang.
        Pods already terminating (an earlier cycle's victims) count as gone, not as new victims."""
        trial = _trial(self.handle.snapshot().values())
        priority = pods.priority(pod)
        candidates = []
        for node, info in trial.items():
            for p in list(info.pods.values()):
                if pods.priority(p) >= priority or group_key(p) is not None:
                    continue
                info.remove_pod(p)
                if not pods.is_deleting(p):
                    candidates.append((node, p))
        if self._gang_placement(key, pod, remaining, _trial(trial.values())) is None:
            return None
        victims = []
        for node, candidate in sorted(candidates, key=lambda item: pods.priority(item[1]), reverse=True):  # reprieve
            trial[node].add_pod(candidate)
            if self._gang_placement(key, pod, remaining, _trial(trial.values())) is None:
                trial[node].remove_pod(candidate)
                victims.append(candidate)
        placement = self._gang_placement(key, pod, remaining, _trial(trial.values()))
        return (victims, placement) if placement else None

    def _started_gangs(self, exclude: str) -> dict[str, tuple[Pod, int]]:
        """Gangs with members waiting at permit: a template pod and how many members they still need."""
        out: dict[str, tuple[Pod, int]] = {}
        for waiting in self.handle.waiting:
            key = group_key(waiting.pod)
            if key is None or key == exclude or key in out:
                continue
            group = self.group(key)
            if group is None:
                continue
            out[key] = (waiting.pod, max(0, group.min_member - len(self._placed(key))))
        return out


def _fits(pod: Pod, request: Resources, node: NodeInfo) -> bool:
    """Room, and nothing that keeps the pod off the node (taints, node affinity and selector, a cordon)."""
    if insufficient(request, node):
        return False
    return all(check({}, pod, node).is_success for check in _STATELESS_FILTERS)


def _trial(nodes: Iterable[NodeInfo]) -> Trial:
    return {n.name: n.copy() for n in nodes}


def _place(pod: Pod, count: int, nodes: Trial) -> list[str] | None:
    """Place ``count`` copies of ``pod``, first fit, on the trial nodes (which then count them): their nodes."""
    request = pod_requests(pod)
    meta = pod.get("metadata") or {}
    chosen = []
    for i in range(count):
        node = next((n for n in nodes.values() if _fits(pod, request, n)), None)
        if node is None:
            return None
        node.add_pod({**pod, "metadata": {**meta, "name": f"{meta.get('name')}-trial-{i}"}})
        chosen.append(node.name)
    return chosen


_STATELESS_FILTERS = [
    TaintToleration({}, Handle()).filter,
    NodeAffinity({}, Handle()).filter,
    NodeUnschedulable({}, Handle()).filter,
]
