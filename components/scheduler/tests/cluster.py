"""Helpers for the tests on a real API server: nodes made as a kubelet and the node lifecycle
controller would, pods created in a namespace, listed, their events (waiting: kubelab_kit.testing)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from kubelab_client.kube import Api
from kubelab_client.resources import NODES, PODS
from kubelab_scheduler.config import SchedulerConfiguration
from kubelab_scheduler.events import EVENTS
from kubelab_scheduler.framework.runtime import Factory
from kubelab_scheduler.scheduler import Scheduler


def make_node(api: Api, n: dict[str, Any]) -> None:
    """A Node as a kubelet registers it, then Ready; without a node lifecycle controller here, the
    ``node.kubernetes.io/not-ready`` taint the API server adds on create is removed as that controller would."""
    created = api.create(NODES, {k: v for k, v in n.items() if k != "status"})
    name = created["metadata"]["name"]
    status = {**n["status"], "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}]}
    api.patch(NODES, name, {"status": status}, subresource="status")
    taints = [t for t in created["spec"].get("taints") or [] if t["key"] != "node.kubernetes.io/not-ready"]
    api.patch(NODES, name, {"spec": {"taints": taints or None}})


def create(api: Api, p: dict[str, Any], ns: str) -> dict[str, Any]:
    p["metadata"]["namespace"] = ns
    p["metadata"].pop("uid", None)
    return api.create(PODS, p, ns)


def listed(api: Api, ns: str) -> list[dict[str, Any]]:
    return list(api.request("GET", PODS.collection_path(ns))["items"])


def events_of(api: Api, ns: str, name: str) -> list[dict[str, Any]]:
    items = api.request("GET", EVENTS.collection_path(ns))["items"]
    return [e for e in items if e["regarding"]["name"] == name]


@contextmanager
def running(
    api: Api, config: SchedulerConfiguration, registry: Mapping[str, tuple[type, Factory]] | None = None
) -> Iterator[Scheduler]:
    """A scheduler running in a thread of this process, its informers synced; stopped after the block."""
    sched = Scheduler(api, config, registry=registry)
    stop = threading.Event()
    thread = threading.Thread(target=sched.run, args=(stop,), daemon=True)
    thread.start()
    assert sched.ready.wait(30), "the scheduler's informers did not sync"
    try:
        yield sched
    finally:
        stop.set()
        thread.join(30)


def namespace(api: Api, name: str) -> str:
    name = name.replace("_", "-")[:50].strip("-").lower()
    api.request("POST", "/api/v1/namespaces", body={"metadata": {"name": name}})
    return name
