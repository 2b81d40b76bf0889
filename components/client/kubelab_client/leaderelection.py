"""Leader election on a ``coordination.k8s.io/v1`` Lease, with client-go's rules
(``tools/leaderelection``): one of several replicas is active, the others wait.

* A candidate takes the Lease when it is free (no holder) or expired: the holder has not
  renewed it for ``lease_duration`` seconds *as this candidate observed it* (the time it last
  saw the record change, by its own monotonic clock; the servers' clocks are never compared).
* The leader renews every ``retry_period``; when it cannot renew within ``renew_deadline``
  it has lost the Lease and must stop acting (``on_stopped_leading``). Updates carry the
  Lease's ``resourceVersion``, so two candidates never both win (409 Conflict for one).
* :meth:`LeaderElector.release` (on a clean shutdown) empties the holder, so a standby takes
  over at its next retry instead of after the whole lease duration.

So a killed leader is replaced after at most ``lease_duration + retry_period``.

:func:`leading` is the whole protocol for a daemon: block until leader, renew in a thread
(losing the Lease sets the daemon's ``stop`` and the returned ``lost``), release on the way out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kubelab_client.errors import ApiError, ClientError
from kubelab_client.kube import Api
from kubelab_client.objects import format_time
from kubelab_client.resources import Resource

log = logging.getLogger(__name__)
LEASES = Resource("coordination.k8s.io", "v1", "leases", "Lease")


@dataclass(frozen=True)
class ElectionConfig:
    namespace: str
    name: str
    identity: str
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    def __post_init__(self) -> None:
        if not self.lease_duration > self.renew_deadline > self.retry_period > 0:
            raise ValueError("leader election: lease_duration > renew_deadline > retry_period > 0")


class LeaderElector:
    def __init__(self, api: Api, config: ElectionConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.api = api
        self.config = config
        self._clock = clock
        self._observed: tuple[str, str] | None = None  # (holder, renewTime) last seen
        self._observed_at = 0.0
        self._leading = threading.Event()

    @property
    def is_leader(self) -> bool:
        return self._leading.is_set()

    def holder(self) -> str | None:
        return self._observed[0] if self._observed else None

    # one attempt -------------------------------------------------------------------------
    def try_acquire_or_renew(self) -> bool:
        """One round: create the Lease, renew ours, or take an expired or free one."""
        cfg = self.config
        now = datetime.now(UTC)
        spec: dict[str, Any] = {
            "holderIdentity": cfg.identity,
            "leaseDurationSeconds": int(cfg.lease_duration),
            "renewTime": format_time(now, micro=True),
        }
        try:
            lease = self.api.get(LEASES, cfg.name, cfg.namespace)
        except ApiError as exc:
            if not exc.is_not_found:
                raise
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": cfg.name, "namespace": cfg.namespace},
                "spec": {**spec, "acquireTime": format_time(now, micro=True), "leaseTransitions": 0},
            }
            try:
                self.api.create(LEASES, body, cfg.namespace)
            except ApiError as exc2:
                if exc2.is_conflict:
                    return False  # someone else created it first
                raise
            self._observe(cfg.identity, spec["renewTime"])
            return True
        current = lease.get("spec") or {}
        holder = str(current.get("holderIdentity") or "")
        record = (holder, str(current.get("renewTime") or ""))
        if record != self._observed:
            self._observe(*record)
        duration = float(current.get("leaseDurationSeconds") or cfg.lease_duration)
        expired = self._clock() > self._observed_at + duration
        if holder and holder != cfg.identity and not expired:
            return False
        if holder == cfg.identity:
            spec["acquireTime"] = current.get("acquireTime") or format_time(now, micro=True)
            spec["leaseTransitions"] = current.get("leaseTransitions") or 0
        else:
            spec["acquireTime"] = format_time(now, micro=True)
            spec["leaseTransitions"] = int(current.get("leaseTransitions") or 0) + 1
        lease["spec"] = spec
        try:
            self.api.replace(LEASES, lease)
        except ApiError as exc:
            if exc.is_conflict:
                return False
            raise
        self._observe(cfg.identity, spec["renewTime"])
        return True

    def _observe(self, holder: str, renew_time: str) -> None:
        self._observed = (holder, renew_time)
        self._observed_at = self._clock()

    # the loops ---------------------------------------------------------------------------
    def acquire(self, stop: threading.Event) -> bool:
        """Block until this candidate leads (True) or ``stop`` is set (False)."""
        announced = ""
        while not stop.is_set():
            try:
                if self.try_acquire_or_renew():
                    log.info(
                        "leader election: %s acquired lease %s/%s",
                        self.config.identity,
                        self.config.namespace,
                        self.config.name,
                    )
                    self._leading.set()
                    return True
                holder = self.holder() or ""
                if holder != announced:
                    log.info("leader election: waiting, %s holds lease %s", holder, self.config.name)
                    announced = holder
            except ClientError as exc:
                log.warning("leader election: %s", exc)
            stop.wait(self.config.retry_period)
        return False

    def renew_until_lost(self, stop: threading.Event) -> bool:
        """Renew every retry period; returns False once the Lease is lost, True when ``stop`` is set."""
        last_renewed = self._clock()
        while not stop.wait(self.config.retry_period):
            try:
                if self.try_acquire_or_renew():
                    last_renewed = self._clock()
                    continue
            except ClientError as exc:
                log.warning("leader election: renewing: %s", exc)
            if (
                self._clock() - last_renewed > self.config.renew_deadline
                or (self.holder() or "") != self.config.identity
            ):
                log.error("leader election: %s lost lease %s", self.config.identity, self.config.name)
                self._leading.clear()
                return False
        return True

    def release(self) -> None:
        """Give the Lease up (only if we hold it), so a standby takes over at once."""
        if not self._leading.is_set():
            return
        self._leading.clear()
        try:
            lease = self.api.get(LEASES, self.config.name, self.config.namespace)
            if (lease.get("spec") or {}).get("holderIdentity") != self.config.identity:
                return
            lease["spec"] = {**lease["spec"], "holderIdentity": None, "leaseDurationSeconds": 1}
            self.api.replace(LEASES, lease)
            log.info("leader election: released lease %s", self.config.name)
        except ClientError as exc:
            log.warning("leader election: releasing: %s", exc)


@contextmanager
def leading(elector: LeaderElector, stop: threading.Event) -> Iterator[threading.Event | None]:
    """Lead for the duration of the block: yields None if ``stop`` came before the Lease, else an
    event set when the Lease was lost (``stop`` is then set too, so the leader's work ends). On
    leaving, renewal stops and the Lease is released unless it was lost."""
    if not elector.acquire(stop):
        yield None
        return
    lost = threading.Event()
    done = threading.Event()

    def renew() -> None:  # until the block ends (a set ``stop`` ends the leader's work, hence the block)
        if not elector.renew_until_lost(done):
            lost.set()
            stop.set()

    thread = threading.Thread(target=renew, name="leader-election", daemon=True)
    thread.start()
    try:
        yield lost
    finally:
        done.set()
        thread.join(elector.config.retry_period * 2 + 5)
        if not lost.is_set():
            elector.release()
