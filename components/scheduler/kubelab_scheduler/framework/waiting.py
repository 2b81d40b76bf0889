"""Pods held at permit (upstream ``waitingPod``): each permit plugin that answered WAIT must
allow the pod before its timeout, or the pod is rejected; any plugin may reject it at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from kubelab_scheduler import pods
from kubelab_scheduler.framework.status import Code, Status


class WaitingPod:
    def __init__(self, pod: Mapping[str, Any], node: str, timeouts: Mapping[str, float]) -> None:
        self.pod = pod
        self.node = node
        self._pending = dict(timeouts)  # plugin -> seconds
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._result: Status | None = None
        self._deadline = time.monotonic() + min(timeouts.values())
        self._first = min(timeouts, key=lambda p: timeouts[p])

    @property
    def uid(self) -> str:
        return pods.uid(self.pod)

    def pending_plugins(self) -> list[str]:
        with self._lock:
            return sorted(self._pending)

    def allow(self, plugin: str) -> None:
        with self._lock:
            self._pending.pop(plugin, None)
            if not self._pending and self._result is None:
                self._result = Status()
                self._done.set()

    def reject(self, plugin: str, message: str) -> None:
        with self._lock:
            if self._result is None:
                self._result = Status(Code.UNSCHEDULABLE, (message,), plugin)
                self._done.set()

    def wait(self) -> Status:
        """Block until allowed, rejected or timed out."""
        if not self._done.wait(max(0.0, self._deadline - time.monotonic())):
            self.reject(self._first, f"rejected due to timeout after waiting at plugin {self._first}")
        assert self._result is not None
        return self._result


class WaitingPods:
    """The map of waiting pods by UID, thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pods: dict[str, WaitingPod] = {}

    def add(self, waiting: WaitingPod) -> None:
        with self._lock:
            self._pods[waiting.uid] = waiting

    def remove(self, uid: str) -> None:
        with self._lock:
            self._pods.pop(uid, None)

    def get(self, uid: str) -> WaitingPod | None:
        with self._lock:
            return self._pods.get(uid)

    def __iter__(self) -> Iterator[WaitingPod]:
        with self._lock:
            return iter(list(self._pods.values()))
