"""What the scheduler tells about a pod: ``events.k8s.io/v1`` Events (Scheduled, FailedScheduling),
as kube-scheduler records them, and the pod's ``PodScheduled`` condition.

Events are sent from one background thread, so a slow API server never slows a scheduling
cycle; a failed send is logged and dropped (events are best effort, as upstream).
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Mapping
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


class Recorder:
    def __init__(self, api: Api) -> None:
        self.api = api
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="events")

    def scheduled(self, pod: Mapping[str, Any], node: str, controller: str) -> None:
        meta = pod.get("metadata") or {}
        note = f"Successfully assigned {meta.get('namespace')}/{meta.get('name')} to {node}"
        self._send(event(pod, reason="Scheduled", note=note, action="Binding", warning=False, controller=controller))

    def failed(self, pod: Mapping[str, Any], message: str, controller: str) -> None:
        self._send(
            event(
                pod, reason="FailedScheduling", note=message, action="Scheduling", warning=True, controller=controller
            )
        )

    def unschedulable_condition(self, pod: Mapping[str, Any], reason: str, message: str) -> None:
        """``PodScheduled=False`` with the reason (``Unschedulable``, ``SchedulerError``) and message, as upstream."""
        meta = pod.get("metadata") or {}
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
