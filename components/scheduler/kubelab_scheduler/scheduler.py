"""The scheduler: informers feed the cache and the queue; one scheduling cycle at a time, binding
cycles in parallel (upstream ``pkg/scheduler/schedule_one.go``).

Scheduling cycle (one pod, on a snapshot of the cache): pre-filter, filter every node, and when
none fits post-filter (preemption) and a FitError with upstream's message; otherwise pre-score,
score, the highest total (ties broken at random), *assume* the pod on that node in the cache,
reserve, permit. Binding cycle (a worker thread): wait on permit, pre-bind, bind (``pods/binding``
with the UID precondition), post-bind, the ``Scheduled`` event. A failure anywhere after assume
unreserves, forgets the assumed pod and requeues it; no pod is lost and none is bound twice
(the API server refuses a second bind, and the informer's update confirms the first).

Pods are those whose ``spec.schedulerName`` is one of the profiles'; nodes and bound pods of
every scheduler are in the cache, so resources are counted whoever placed the pods.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kubelab_client.informer import HandlerFuncs, SharedInformer
from kubelab_client.keys import DeletedFinalStateUnknown
from kubelab_client.kube import Api
from kubelab_client.listwatch import ListWatch
from kubelab_client.resources import NODES, PODS
from kubelab_scheduler import pods
from kubelab_scheduler.cache import Cache
from kubelab_scheduler.config import SchedulerConfiguration
from kubelab_scheduler.events import Recorder
from kubelab_scheduler.framework.interface import CycleState, EnqueueExtensions, Pod
from kubelab_scheduler.framework.runtime import Factory, Framework, Handle
from kubelab_scheduler.framework.status import Code, Diagnosis, FitError, Status
from kubelab_scheduler.gang import podgroups
from kubelab_scheduler.nodeinfo import NodeInfo
from kubelab_scheduler.plugins.registry import in_tree
from kubelab_scheduler.queue import QueuedPodInfo, SchedulingQueue

log = logging.getLogger(__name__)
NO_NODES = "no nodes available to schedule pods"


class SchedulingError(Exception):
    """A plugin failed (not a misfit): the pod is retried after backoff."""


def _node_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Only changes that can make a pod fit count as NodeUpdate (upstream's queueing hints, simplified)."""

    def view(n: Mapping[str, Any]) -> Any:
        return (
            (n.get("metadata") or {}).get("labels"),
            (n.get("spec") or {}).get("taints"),
            (n.get("spec") or {}).get("unschedulable"),
            (n.get("status") or {}).get("allocatable"),
        )

    return bool(view(old) != view(new))


def _pod_changed(old: Pod, new: Pod) -> bool:
    """A change that can make an unschedulable pod fit: its spec, labels or annotations (upstream's
    ``isPodUpdated`` ignores the status, the resourceVersion and the managed fields)."""

    def view(p: Pod) -> Any:
        meta = p.get("metadata") or {}
        return p.get("spec"), meta.get("labels"), meta.get("annotations")

    return bool(view(old) != view(new))


class Scheduler:
    def __init__(
        self,
        api: Api,
        config: SchedulerConfiguration,
        *,
        registry: Mapping[str, tuple[type, Factory]] | None = None,
        rng: random.Random | None = None,
        events_api: Api | None = None,
    ) -> None:
        self.api = api
        self.config = config
        self.cache = Cache()
        self.rng = rng or random.Random()
        self.handle = Handle(api=api, snapshot=self.cache.snapshot)
        plugins = dict(registry or in_tree())
        self.frameworks = {p.scheduler_name: Framework(p, plugins, self.handle) for p in config.profiles}
        first = next(iter(self.frameworks.values()))
        self.queue = SchedulingQueue(
            first.queue_sort.less,
            initial_backoff=config.pod_initial_backoff_seconds,
            max_backoff=config.pod_max_backoff_seconds,
            plugins_for_event=self._plugins_for_events(),
        )
        self.handle.requeue = self.queue.move_all_to_active_or_backoff
        self.handle.framework_for = lambda pod: self.frameworks.get(pods.scheduler_name(pod))
        self.handle.nominate = self.nominate
        self._nominated: dict[str, tuple[str, Pod]] = {}  # pod key -> (node, pod): room made by preemption
        self._nominated_lock = threading.Lock()
        self.recorder = Recorder(events_api or api)
        self.binders = ThreadPoolExecutor(max_workers=config.parallelism, thread_name_prefix="bind")
        self.on_bound: Callable[[Pod, str], None] | None = None  # for tests and metrics
        self._informers: list[SharedInformer] = []
        self.ready = threading.Event()  # set once the informers have synced
        self._started: list[Any] = []

    def _plugins_for_events(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for fwk in self.frameworks.values():
            for name, plugin in fwk.plugins.items():
                if isinstance(plugin, EnqueueExtensions):
                    for event in plugin.events_to_register():
                        out.setdefault(event, set()).add(name)
        return out

    # -- informers -----------------------------------------------------------------------------
    def _ours(self, pod: Pod) -> bool:
        return pods.needs_scheduling(pod, set(self.frameworks))

    def nominate(self, pod: Pod, node: str) -> None:
        with self._nominated_lock:
            self._nominated[pods.key(pod)] = (node, pod)

    def _forget_nomination(self, pod: Pod) -> None:
        with self._nominated_lock:
            self._nominated.pop(pods.key(pod), None)

    def nominated_on(self, node: str, pod: Pod) -> list[Pod]:
        """Pods nominated to ``node`` that ``pod`` must leave room for (same or higher priority; not
        its own gang's: the room a gang preemption made is for any of its members)."""
        group = podgroups.group_key(pod)
        with self._nominated_lock:
            return [
                p
                for k, (n, p) in self._nominated.items()
                if n == node
                and k != pods.key(pod)
                and pods.priority(p) >= pods.priority(pod)
                and (group is None or podgroups.group_key(p) != group)
            ]

    def pod_added(self, pod: Pod) -> None:
        if pods.node_name(pod):
            self._forget_nomination(pod)
            if pods.is_terminal(pod):
                return
            self.cache.add_pod(pod)
            self.queue.delete(pod)
            self.queue.move_all_to_active_or_backoff("AssignedPodAdd")
        elif self._ours(pod) and not pods.scheduling_gated(pod):
            self.queue.add(pod)
            if podgroups.group_key(pod):  # a sibling arrived: its gang may be complete now
                self.queue.move_all_to_active_or_backoff("PodGroupChange")

    def pod_updated(self, old: Pod, new: Pod) -> None:
        if pods.node_name(new):
            self._forget_nomination(new)
            if pods.is_terminal(new):  # done: its resources are free
                self.cache.remove_pod(new)
                self.queue.move_all_to_active_or_backoff("AssignedPodDelete")
                return
            was_bound = bool(pods.node_name(old))
            self.cache.update_pod(new)
            self.queue.delete(new)
            if not was_bound:  # bound just now (by us or another scheduler)
                self.queue.move_all_to_active_or_backoff("AssignedPodAdd")
            elif _pod_changed(old, new):  # labels or requests: not the kubelet's status updates
                self.queue.move_all_to_active_or_backoff("AssignedPodUpdate")
        elif self._ours(new) and not pods.scheduling_gated(new):
            self.queue.update(new, relevant=_pod_changed(old, new))
        else:
            self.queue.delete(new)

    def pod_deleted(self, obj: Any) -> None:
        pod = obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj
        if not isinstance(pod, Mapping):
            return
        self._forget_nomination(pod)
        if pods.node_name(pod):
            self.cache.remove_pod(pod)
            self.queue.move_all_to_active_or_backoff("AssignedPodDelete")
        else:
            self.queue.delete(pod)
            waiting = self.handle.waiting.get(pods.uid(pod))
            if waiting is not None:
                waiting.reject("", "pod deleted while waiting at permit")

    def node_added(self, node: Mapping[str, Any]) -> None:
        self.cache.add_node(node)
        self.queue.move_all_to_active_or_backoff("NodeAdd")

    def node_updated(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        self.cache.update_node(new)
        if _node_changed(old, new):
            self.queue.move_all_to_active_or_backoff("NodeUpdate")

    def node_deleted(self, obj: Any) -> None:
        node = obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj
        if isinstance(node, Mapping):
            self.cache.remove_node(node)

    def start_informers(self, stop: threading.Event, timeout: float = 60.0) -> None:
        nodes = SharedInformer(ListWatch(self.api, NODES), name="nodes")
        nodes.add_event_handler(HandlerFuncs(self.node_added, self.node_updated, self.node_deleted))
        everything = SharedInformer(ListWatch(self.api, PODS), name="pods", indexers={podgroups.INDEX: podgroups.index})
        everything.add_event_handler(HandlerFuncs(self.pod_added, self.pod_updated, self.pod_deleted))
        self.handle.pods_in_group = lambda key: everything.indexer.by_index(podgroups.INDEX, key)
        self._informers = [nodes, everything]
        for informer in self._informers:
            informer.start(stop)
        for fwk in self.frameworks.values():  # plugins that watch something of their own (PodGroups)
            for plugin in fwk.plugins.values():
                if callable(getattr(plugin, "start", None)) and plugin not in self._started:
                    self._informers.append(plugin.start(stop))
                    self._started.append(plugin)
        for informer in self._informers:
            if not informer.wait_for_cache_sync(timeout):
                raise TimeoutError(f"informer {informer.name} did not sync in {timeout:g} s")
        for informer in self._informers:
            informer.wait_idle(timeout)
        self.ready.set()

    # -- running -------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Watch, then schedule until ``stop`` is set."""
        self.start_informers(stop)
        flusher = threading.Thread(target=self._flush_loop, args=(stop,), name="queue-flush", daemon=True)
        flusher.start()
        log.info("scheduling pods of %s", ", ".join(sorted(self.frameworks)))
        while not stop.is_set():
            info = self.queue.pop(timeout=0.5)
            if info is not None:
                self.schedule_one(info)
        self.queue.close()
        self.binders.shutdown(wait=True)
        self.recorder.close()

    def _flush_loop(self, stop: threading.Event) -> None:
        while not stop.wait(30):
            self.queue.flush_unschedulable()

    # -- one pod -------------------------------------------------------------------------------
    def schedule_one(self, info: QueuedPodInfo) -> None:
        pod = info.pod
        fwk = self.frameworks.get(pods.scheduler_name(pod))
        if fwk is None or pods.is_deleting(pod) or pods.node_name(pod) or self.cache.is_assumed(pod):
            self.queue.done(info)
            return
        state: CycleState = {}
        started = time.monotonic()
        try:
            host = self.schedule_pod(fwk, state, pod)
        except FitError as err:
            nominated, message = fwk.run_post_filter(state, pod, err.diagnosis.node_statuses)
            err.post_filter = message
            if nominated:
                log.info("%s: room made on %s; retrying", pods.key(pod), nominated)
            self.fail(fwk, info, err.message, err.diagnosis.plugins, "Unschedulable")
            return
        except SchedulingError as err:
            self.fail(fwk, info, str(err), set(), "SchedulerError")
            return
        self.cache.assume_pod(pod, host)
        status = fwk.run_reserve(state, pod, host)
        if not status.is_success:
            self._undo(fwk, state, pod, host)
            self.fail(
                fwk, info, status.message, {status.plugin}, "Unschedulable" if status.is_rejection else "SchedulerError"
            )
            return
        status = fwk.run_permit(state, pod, host)
        if not status.is_success and status.code is not Code.WAIT:
            self._undo(fwk, state, pod, host)
            self.fail(fwk, info, status.message, {status.plugin}, "Unschedulable")
            return
        log.debug("%s: %s chosen in %.1f ms", pods.key(pod), host, (time.monotonic() - started) * 1e3)
        self.binders.submit(self.binding_cycle, fwk, state, info, host)

    def binding_cycle(self, fwk: Framework, state: CycleState, info: QueuedPodInfo, host: str) -> None:
        pod = info.pod
        try:
            status = fwk.wait_on_permit(pod)
            if status.is_success:
                status = fwk.run_pre_bind(state, pod, host)
            if status.is_success:
                status = fwk.run_bind(state, pod, host)
        except Exception as exc:  # a plugin bug must not lose the pod
            log.exception("%s: binding cycle raised", pods.key(pod))
            status = Status.error(f"binding cycle raised: {exc}")
        if not status.is_success:
            self._undo(fwk, state, pod, host)
            reason = "Unschedulable" if status.is_rejection else "SchedulerError"
            self.fail(fwk, info, status.message, {status.plugin} if status.plugin else set(), reason)
            return
        self.queue.done(info)
        fwk.run_post_bind(state, pod, host)
        self.recorder.scheduled(pod, host, fwk.scheduler_name)
        if self.on_bound is not None:
            self.on_bound(pod, host)

    def _undo(self, fwk: Framework, state: CycleState, pod: Pod, host: str) -> None:
        fwk.run_unreserve(state, pod, host)
        if self.cache.is_assumed(pod):
            self.cache.forget_pod(pod)

    def fail(self, fwk: Framework, info: QueuedPodInfo, message: str, plugins: set[str], reason: str) -> None:
        pod = info.pod
        log.info("%s: %s", pods.key(pod), message)
        self.recorder.failed(pod, message, fwk.scheduler_name)
        self.recorder.unschedulable_condition(pod, reason, message)
        self.queue.add_unschedulable(info, plugins if reason == "Unschedulable" else set())

    def schedule_pod(self, fwk: Framework, state: CycleState, pod: Pod) -> str:
        """The node for ``pod``; :class:`FitError` when none fits, :class:`SchedulingError` when a plugin fails."""
        snapshot = self.cache.snapshot()
        nodes = list(snapshot.values())
        if not nodes:
            raise FitError(pods.key(pod), 0, Diagnosis(pre_filter_message=NO_NODES))
        result, status = fwk.run_pre_filter(state, pod, nodes)
        if not status.is_success:
            if not status.is_rejection:
                raise SchedulingError(f"running PreFilter plugin {status.plugin}: {status.message}")
            # as upstream, the nodes get no status of their own: the message is the pre-filter's alone
            diagnosis = Diagnosis({}, {status.plugin}, pre_filter_message=status.message)
            raise FitError(pods.key(pod), len(nodes), diagnosis)
        if result.node_names is not None:
            nodes = [n for n in nodes if n.name in result.node_names]
        feasible, diagnosis = self.find_feasible(fwk, state, pod, nodes)
        if not feasible:
            raise FitError(pods.key(pod), len(snapshot), diagnosis)
        if len(feasible) == 1:
            return feasible[0].name
        status = fwk.run_pre_score(state, pod, feasible)
        if not status.is_success:
            raise SchedulingError(f"running PreScore plugin {status.plugin}: {status.message}")
        scores, status = fwk.run_score(state, pod, feasible)
        if not status.is_success:
            raise SchedulingError(f"running Score plugin {status.plugin}: {status.message}")
        return self.select_host(scores)

    def find_feasible(
        self, fwk: Framework, state: CycleState, pod: Pod, nodes: list[NodeInfo]
    ) -> tuple[list[NodeInfo], Diagnosis]:
        feasible: list[NodeInfo] = []
        diagnosis = Diagnosis()
        for node in nodes:
            nominated = self.nominated_on(node.name, pod)
            if nominated:  # room preemption made for another pod is not ours to take
                node = node.copy()
                for other in nominated:
                    node.add_pod({**other, "spec": {**(other.get("spec") or {}), "nodeName": node.name}})
            status = fwk.run_filter(state, pod, node)
            if status.is_success:
                feasible.append(node)
            elif status.code is Code.ERROR:
                raise SchedulingError(f"running Filter plugin {status.plugin} on {node.name}: {status.message}")
            else:
                diagnosis.node_statuses[node.name] = status
                diagnosis.plugins.add(status.plugin)
        return feasible, diagnosis

    def select_host(self, scores: Mapping[str, int]) -> str:
        """The highest total; among equal totals one at random (upstream's reservoir sampling)."""
        best = max(scores.values())
        return self.rng.choice(sorted(n for n, s in scores.items() if s == best))
