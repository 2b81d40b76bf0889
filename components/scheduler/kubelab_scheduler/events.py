"""What the scheduler tells about a pod: ``events.k8s.io/v1`` Events (Scheduled, FailedScheduling),
as kube-scheduler records them, and the pod's ``PodScheduled`` condition.

Events are sent from background threads, so a slow API server never slows a scheduling
cycle; a failed send is logged and dropped (events are best effort, as upstream). A pod retried
many times with the same outcome (a burst's pending pods, moved back on every deleted pod)
gets one FailedScheduling event per message per ``REPEAT_AFTER`` seconds, and its condition is
only written when it changes (upstream skips an unchanged condition too): without that, the
sends queue up for minutes behind a burst.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from kubelab_client.errors import ClientError
from kubelab_client.kube import Api
from kubelab_client.objects import format_time
from kubelab_client.resources import PODS, Resource

log = logging.getLogger(__name__)
EVENTS = Resource("events.k8s.io", "v1", "events", "Event")


def event(
    pod: Mapping[str, Any], *, reason: str, note: str, action: str, warning: bool, controller: str
) -> dict[str, Any]:
    meta = pod.get("metadata") or {}
    return {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": f"{meta.get('name')}.{time.time_ns():x}", "namespace": meta.get("namespace")},
        "eventTime": format_time(datetime.now(UTC), micro=True),
        "reportingController": controller,
        "reportingInstance": f"{controller}-{socket.gethostname()}",
        "action": action,
        "reason": reason,
        "type": "Warning" if warning else "Normal",
        "note": note[:1024],
        "regarding": {
            "apiVersion": "v1", "kind": "Pod", "namespace": meta.get("namespace"), "name": meta.get("name"),
            "uid": meta.get("uid"), "resourceVersion": meta.get("resourceVersion"),
        },
    }  # fmt: skip


REPEAT_AFTER = 30.0


class Recorder:
    def __init__(self, api: Api, clock: Callable[[], float] = time.monotonic) -> None:
        self.api = api
        self.clock = clock
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="events")
        self._lock = threading.Lock()
        self._said: dict[tuple[str, str], float] = {}  # (pod uid, what) -> when last sent

    def _fresh(self, pod: Mapping[str, Any], what: str) -> bool:
        """True (and remembered) unless the same thing was said about this pod within REPEAT_AFTER."""
        key = (str((pod.get("metadata") or {}).get("uid") or ""), what)
        now = self.clock()
        with self._lock:
            if now - self._said.get(key, -REPEAT_AFTER - 1) <= REPEAT_AFTER:
                return False
            self._said[key] = now
            if len(self._said) > 10000:  # forget the oldest half
                for old in sorted(self._said, key=self._said.__getitem__)[:5000]:
                    del self._said[old]
            return True

    def scheduled(self, pod: Mapping[str, Any], node: str, controller: str) -> None:
        meta = pod.get("metadata") or {}
        note = f"Successfully assigned {meta.get('namespace')}/{meta.get('name')} to {node}"
        self._send(event(pod, reason="Scheduled", note=note, action="Binding", warning=False, controller=controller))

    def failed(self, pod: Mapping[str, Any], message: str, controller: str) -> None:
        if not self._fresh(pod, f"event:{message}"):
            return
        self._send(
            event(
                pod, reason="FailedScheduling", note=message, action="Scheduling", warning=True, controller=controller
            )
        )

    def unschedulable_condition(self, pod: Mapping[str, Any], reason: str, message: str) -> None:
        """``PodScheduled=False`` with the reason (``Unschedulable``, ``SchedulerError``) and message, as upstream."""
        meta = pod.get("metadata") or {}
        for c in (pod.get("status") or {}).get("conditions") or []:
            if c.get("type") == "PodScheduled" and (c.get("status"), c.get("reason"), c.get("message")) == (
                "False",
                reason,
                message,
            ):
                return  # unchanged
        if not self._fresh(pod, f"condition:{reason}:{message}"):
            return
        condition = {
            "type": "PodScheduled", "status": "False", "reason": reason, "message": message,
            "lastTransitionTime": format_time(datetime.now(UTC)), "lastProbeTime": None,
        }  # fmt: skip
        patch = {"status": {"conditions": [condition]}}
        self._pool.submit(self._patch, str(meta.get("name")), str(meta.get("namespace")), patch)

    def flush(self, timeout: float = 10.0) -> None:
        self._pool.submit(lambda: None).result(timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def _send(self, obj: dict[str, Any]) -> None:
        self._pool.submit(self._create, obj)

    def _create(self, obj: dict[str, Any]) -> None:
        try:
            self.api.create(EVENTS, obj, obj["metadata"]["namespace"])
        except ClientError as exc:
            log.warning("event %s for %s not recorded: %s", obj["reason"], obj["regarding"]["name"], exc)

    def _patch(self, name: str, namespace: str, patch: dict[str, Any]) -> None:
        try:
            self.api.patch(PODS, name, patch, namespace, patch_type="strategic", subresource="status")
        except ClientError as exc:
            log.warning("PodScheduled condition of %s/%s not written: %s", namespace, name, exc)
