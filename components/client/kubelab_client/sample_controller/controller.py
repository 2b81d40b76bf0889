"""SummaryController: the sample-controller pattern, step by step.

* Two informers on ConfigMaps: the *sources* (``kubelab.dev/summarize=true``) and the
  *summaries* it owns (``kubelab.dev/summary-of``). Events of either enqueue the source's
  ``namespace/name`` key: a change to a summary (someone edited or deleted it) brings the
  source back to be reconciled, as sample-controller does for the Deployments it owns.
* Workers take keys from a rate-limited workqueue, so one key is never reconciled twice at
  once, bursts of events for one key collapse into one reconcile, and a failing key is
  retried with per-item exponential backoff (``max_retries``, then dropped and logged).
* ``sync(key)`` is level-triggered: it reads the *cache*, computes the desired summary and
  creates, replaces (optimistic concurrency: a 409 just retries) or deletes it. The summary
  carries an ownerReference, so on a real cluster the garbage collector deletes it too.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections import Counter
from typing import Any

from kubelab_client.errors import ApiError
from kubelab_client.informer import HandlerFuncs, SharedInformer
from kubelab_client.keys import DeletedFinalStateUnknown, meta_namespace_key, split_meta_namespace_key
from kubelab_client.kube import Api
from kubelab_client.listwatch import ListWatch
from kubelab_client.objects import KubeObject, labels, metadata, namespace, uid
from kubelab_client.objects import name as name_of
from kubelab_client.ratelimit import RateLimiter
from kubelab_client.reflector import ReflectorOptions
from kubelab_client.resources import CONFIGMAPS
from kubelab_client.workqueue import RateLimitingQueue

log = logging.getLogger(__name__)

SOURCE_LABEL = "kubelab.dev/summarize"
SUMMARY_OF_LABEL = "kubelab.dev/summary-of"
SUFFIX = "-summary"


def desired_summary(source: KubeObject) -> KubeObject:
    """The summary ConfigMap a source ConfigMap should have."""
    data = source.get("data") or {}
    binary = source.get("binaryData") or {}
    keys = sorted([*data, *binary])
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"{name_of(source)}{SUFFIX}",
            "namespace": namespace(source),
            "labels": {SUMMARY_OF_LABEL: name_of(source)},
            "ownerReferences": [
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "name": name_of(source),
                    "uid": uid(source),
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "data": {
            "keys": str(len(keys)),
            "names": ",".join(keys),
            "bytes": str(sum(len(str(v)) for v in data.values()) + sum(len(str(v)) for v in binary.values())),
        },
    }


def _differs(current: KubeObject, desired: KubeObject) -> bool:
    cur, want = metadata(current), metadata(desired)
    return bool(
        current.get("data") != desired.get("data")
        or any(labels(current).get(k) != v for k, v in want["labels"].items())
        or cur.get("ownerReferences") != want["ownerReferences"]
    )


class SummaryController:
    def __init__(
        self,
        api: Api,
        *,
        namespace: str | None = None,
        workers: int = 2,
        resync_period: float = 300.0,
        rate_limiter: RateLimiter[str] | None = None,
        max_retries: int = 15,
        reflector_options: ReflectorOptions | None = None,
    ) -> None:
        self.api = api
        self.workers = workers
        self.max_retries = max_retries
        self.stats: Counter[str] = Counter()
        self._stats_lock = threading.Lock()
        self.sources = SharedInformer(
            ListWatch(api, CONFIGMAPS, namespace=namespace, label_selector=f"{SOURCE_LABEL}=true"),
            resync_period=resync_period,
            name="summary-sources",
            reflector_options=reflector_options,
        )
        self.summaries = SharedInformer(
            ListWatch(api, CONFIGMAPS, namespace=namespace, label_selector=SUMMARY_OF_LABEL),
            name="summary-owned",
            reflector_options=reflector_options,
        )
        self.queue: RateLimitingQueue[str] = RateLimitingQueue(rate_limiter, name="summaries")
        self.sources.add_event_handler(
            HandlerFuncs(add=self._enqueue, update=lambda old, new: self._enqueue(new), delete=self._enqueue)
        )
        self.summaries.add_event_handler(
            HandlerFuncs(
                add=self._enqueue_owner, update=lambda old, new: self._enqueue_owner(new), delete=self._enqueue_owner
            )
        )

    # event handlers: only compute a key and enqueue it
    def _enqueue(self, obj: Any) -> None:
        self.queue.add(meta_namespace_key(obj))

    def _enqueue_owner(self, obj: Any) -> None:
        if isinstance(obj, DeletedFinalStateUnknown):
            obj = obj.obj
            if obj is None:
                return
        owner = labels(obj).get(SUMMARY_OF_LABEL)
        if owner:
            ns = namespace(obj)
            self.queue.add(f"{ns}/{owner}" if ns else owner)

    def _count(self, what: str) -> None:
        with self._stats_lock:
            self.stats[what] += 1

    # running
    def run(self, stop: threading.Event, ready: threading.Event | None = None) -> None:
        """Start informers, wait for their caches, run workers until ``stop``; then drain the queue."""
        informer_threads = [self.sources.start(stop), self.summaries.start(stop)]
        while not stop.is_set():
            if self.sources.wait_for_cache_sync(0.1) and self.summaries.wait_for_cache_sync(0.1):
                break
        if stop.is_set():
            self.queue.shutdown()
            return
        log.info("caches synced; starting %d workers", self.workers)
        workers = [
            threading.Thread(target=self._worker, name=f"summary-worker-{i}", daemon=True) for i in range(self.workers)
        ]
        for worker in workers:
            worker.start()
        if ready is not None:
            ready.set()
        stop.wait()
        self.queue.shutdown_with_drain(10.0)
        for thread in [*workers, *informer_threads]:
            thread.join(10.0)

    def _worker(self) -> None:
        while self.process_next():
            pass

    def process_next(self) -> bool:
        key, shutdown = self.queue.get()
        if shutdown or key is None:
            return False
        try:
            action = self.sync(key)
            self._count(action)
            self.queue.forget(key)
        except Exception as exc:
            self._count("errors")
            if self.queue.num_requeues(key) < self.max_retries:
                log.info("sync %s failed (%s); retry %d", key, exc, self.queue.num_requeues(key) + 1)
                self.queue.add_rate_limited(key)
            else:
                log.error("sync %s failed %d times, dropping it: %s", key, self.max_retries, exc)
                self.queue.forget(key)
                self._count("dropped")
        finally:
            self.queue.done(key)
        return True

    # the reconcile
    def sync(self, key: str) -> str:
        """Make the cluster match the cache for ``key``; returns what it did (for stats and tests)."""
        ns, name = split_meta_namespace_key(key)
        source = self.sources.indexer.get_by_key(key)
        summary_key = f"{ns}/{name}{SUFFIX}" if ns else f"{name}{SUFFIX}"
        current = self.summaries.indexer.get_by_key(summary_key)
        if source is None:
            if current is None:
                return "unchanged"
            try:
                self.api.delete(CONFIGMAPS, f"{name}{SUFFIX}", ns or None)
            except ApiError as exc:
                if not exc.is_not_found:
                    raise
            return "deleted"
        desired = desired_summary(source)
        if current is None:
            self.api.create(CONFIGMAPS, desired, ns or None)
            return "created"
        if not _differs(current, desired):
            return "unchanged"
        updated = copy.deepcopy(current)
        updated["data"] = desired["data"]
        meta = updated.setdefault("metadata", {})
        meta.setdefault("labels", {}).update(desired["metadata"]["labels"])
        meta["ownerReferences"] = desired["metadata"]["ownerReferences"]
        self.api.replace(CONFIGMAPS, updated)  # carries current's resourceVersion: 409 if stale
        return "updated"
