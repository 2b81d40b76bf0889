"""Runs reconciles: workers take CronJob keys from the work queue, reconcile them from the cache
and carry the plan out through the API (the Chapter 2 client).

As controller-runtime's controller: a key is never reconciled by two workers at once (the
queue's guarantee); an error, or an exception from a bug in the reconcile, requeues it
rate-limited (5 ms doubling to 1000 s) and the worker goes on; a success
forgets its backoff and, when the plan says so, comes back exactly at the next run
(``add_after``: no polling). A Job that already exists (409 AlreadyExists: a retried run,
a stale cache, or the previous leader made it) counts as made: a run never gets two Jobs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kubelab_client.errors import ApiError, ClientError
from kubelab_client.kube import Api
from kubelab_client.resources import Resource
from kubelab_operator import metrics
from kubelab_operator.api.resource import CRONJOB, GROUP, KIND, PLURAL
from kubelab_operator.controller.cache import Cache, Key
from kubelab_operator.controller.queue import InstrumentedQueue
from kubelab_operator.controller.reconcile import Plan, reconcile

log = logging.getLogger(__name__)
CONTROLLER = "cronjob"
CRONJOBS = Resource(GROUP, CRONJOB.storage_version, PLURAL, KIND)
JOBS = Resource("batch", "v1", "jobs", "Job")
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Controller:
    def __init__(self, api: Api, *, workers: int = 2, clock: Clock = utcnow) -> None:
        self.api = api
        self.workers = workers
        self.clock = clock
        self.cache = Cache()
        self.queue: InstrumentedQueue[Key] = InstrumentedQueue(CONTROLLER)
        self._threads: list[threading.Thread] = []
        self._active = metrics.ACTIVE_WORKERS.labels(controller=CONTROLLER)
        metrics.MAX_CONCURRENT.labels(controller=CONTROLLER).set(workers)

    # fed by the watches
    def cronjob_seen(self, obj: dict[str, Any]) -> None:
        self.queue.add(self.cache.put_cronjob(obj))

    def cronjob_gone(self, obj: dict[str, Any]) -> None:
        self.queue.add(self.cache.drop_cronjob(obj))

    def job_seen(self, obj: dict[str, Any]) -> None:
        owner = self.cache.put_job(obj)
        if owner is not None:
            self.queue.add(owner)

    def job_gone(self, obj: dict[str, Any]) -> None:
        owner = self.cache.drop_job(obj)
        if owner is not None:
            self.queue.add(owner)

    # workers
    def start(self) -> None:
        for i in range(self.workers):
            t = threading.Thread(target=self._worker, name=f"reconcile-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self, timeout: float = 10.0) -> None:
        self.queue.shutdown_with_drain(timeout)

    def _worker(self) -> None:
        while True:
            key, shut = self.queue.get()
            if shut:
                return
            if key is None:
                continue
            self._active.inc()
            try:
                self.process(key)
            finally:
                self._active.dec()
                self.queue.done(key)

    def process(self, key: Key) -> None:
        started = time.monotonic()
        result = "success"
        try:
            after = self.reconcile_key(key)
        except (ClientError, OSError) as exc:
            result = "error"
            metrics.RECONCILE_ERRORS.labels(controller=CONTROLLER).inc()
            log.warning("reconcile %s/%s failed, retrying with backoff: %s", *key, exc)
            self.queue.add_rate_limited(key)
        except Exception:  # a bug in the reconcile: controller-runtime recovers it (RecoverPanic), so do we
            result = "error"
            metrics.RECONCILE_ERRORS.labels(controller=CONTROLLER).inc()
            log.exception("reconcile %s/%s raised, retrying with backoff (the worker carries on)", *key)
            self.queue.add_rate_limited(key)
        else:
            self.queue.forget(key)
            if after is not None:
                result = "requeue_after"
                self.queue.add_after(key, after)
        finally:
            metrics.RECONCILE_TIME.labels(controller=CONTROLLER).observe(time.monotonic() - started)
            metrics.RECONCILE_TOTAL.labels(controller=CONTROLLER, result=result).inc()

    def reconcile_key(self, key: Key) -> float | None:
        """Reconcile one CronJob; returns seconds until it must be reconciled again (None: on change only)."""
        cronjob = self.cache.cronjob(key)
        if cronjob is None or cronjob["metadata"].get("deletionTimestamp"):
            return None  # gone, or going: the garbage collector deletes its Jobs, the finalizer its record
        now = self.clock()
        plan = reconcile(cronjob, self.cache.jobs_of(key), now)
        self.carry_out(cronjob, plan)
        return plan.requeue_after

    def carry_out(self, cronjob: dict[str, Any], plan: Plan) -> None:
        ns, name = cronjob["metadata"]["namespace"], cronjob["metadata"]["name"]
        for note in plan.notes:
            log.info("%s/%s: %s", ns, name, note)
        old = cronjob.get("status") or {}
        if any(old.get(k) != plan.status.get(k) for k in ("active", "lastScheduleTime", "conditions")):
            patch = {"status": {k: plan.status.get(k) for k in ("active", "lastScheduleTime", "conditions")}}
            self.api.patch(CRONJOBS, name, patch, ns, subresource="status")
        for job, why in plan.delete:  # best effort, as upstream: a failure is logged, not retried
            try:
                self.api.delete(JOBS, job, ns, propagation_policy="Background")
                log.info("%s/%s: deleted job %s: %s", ns, name, job, why)
            except ApiError as exc:
                if not exc.is_not_found:
                    log.warning("%s/%s: could not delete job %s (%s): %s", ns, name, job, why, exc)
        if plan.create is not None:
            job = plan.create["metadata"]["name"]
            try:
                self.api.create(JOBS, plan.create, ns)
                log.info("%s/%s: created job %s", ns, name, job)
            except ApiError as exc:
                if not exc.is_already_exists:
                    raise
                log.info("%s/%s: job %s already exists: this run was already started", ns, name, job)
