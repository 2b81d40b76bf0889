"""The scheduler against a real API server (envtest): nodes are objects with a status, nothing runs
the pods, so every placement is the scheduler's, checked through the API as a user would."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from kubelab_client.kube import Api
from kubelab_client.resources import NODES, PODS
from kubelab_client.testing.envtest import ControlPlane
from kubelab_kit.testing import eventually
from kubelab_scheduler.resources import amount, pod_requests
from kubelab_scheduler.scheduler import Scheduler

from .builders import node, pod
from .cluster import create, events_of, listed, make_node, namespace

CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


@pytest.fixture(scope="module")
def api(control_plane: ControlPlane) -> Iterator[Api]:
    client = control_plane.api()
    make_node(
        api=client,
        n=node(
            "control-plane",
            cpu="2",
            memory="4Gi",
            taints=[CONTROL_PLANE_TAINT],
            labels={"node-role.kubernetes.io/control-plane": ""},
        ),
    )
    for name in ("worker-1", "worker-2"):
        make_node(client, node(name, cpu="2", memory="4Gi", labels={"topology.kubernetes.io/zone": name}))
    yield client
    client.close()


@pytest.fixture
def ns(api: Api, request: pytest.FixtureRequest) -> str:
    return namespace(api, request.node.name)


def test_pods_are_bound_off_the_tainted_node_with_events(api: Api, scheduler: Scheduler, ns: str) -> None:
    for i in range(4):
        create(api, pod(f"web-{i}"), ns)
    bound = eventually(
        lambda: all(p["spec"].get("nodeName") for p in listed(api, ns)) and listed(api, ns), what="4 binds"
    )
    assert {p["spec"]["nodeName"] for p in bound} <= {"worker-1", "worker-2"}
    scheduled = eventually(lambda: events_of(api, ns, "web-0"), what="the Scheduled event")
    assert scheduled[0]["reason"] == "Scheduled" and scheduled[0]["reportingController"] == "kubelab-scheduler"
    assert scheduled[0]["note"] == f"Successfully assigned {ns}/web-0 to {bound[0]['spec']['nodeName']}"


def test_other_schedulers_pods_are_left_alone(api: Api, scheduler: Scheduler, ns: str) -> None:
    theirs = pod("theirs")
    theirs["spec"]["schedulerName"] = "default-scheduler"
    create(api, theirs, ns)
    create(api, pod("ours"), ns)
    eventually(lambda: api.get(PODS, "ours", ns)["spec"].get("nodeName"), what="ours bound")
    assert not api.get(PODS, "theirs", ns)["spec"].get("nodeName")


def test_a_pod_that_fits_nowhere_says_why_and_binds_when_a_node_comes(api: Api, scheduler: Scheduler, ns: str) -> None:
    create(api, pod("huge", "3"), ns)

    def failed() -> list[dict[str, Any]]:
        return [e for e in events_of(api, ns, "huge") if e["reason"] == "FailedScheduling"]

    (event, *_) = eventually(failed, what="FailedScheduling")
    assert event["type"] == "Warning"
    assert event["note"] == (
        "0/3 nodes are available: 1 node(s) had untolerated taint(s), "
        "2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, "
        "2 No preemption victims found for incoming pod."
    )

    def condition() -> dict[str, Any] | None:
        conditions = api.get(PODS, "huge", ns).get("status", {}).get("conditions") or []
        return next((c for c in conditions if c["type"] == "PodScheduled"), None)

    cond = eventually(condition, what="the PodScheduled condition")
    assert cond["status"] == "False" and cond["reason"] == "Unschedulable" and "Insufficient cpu" in cond["message"]
    make_node(api, node("big", cpu="8", memory="16Gi"))
    try:
        assert (
            eventually(lambda: api.get(PODS, "huge", ns)["spec"].get("nodeName"), what="bound to the new node") == "big"
        )
    finally:
        api.request("DELETE", PODS.object_path("huge", ns), {"gracePeriodSeconds": "0"})
        api.request("DELETE", NODES.object_path("big"))


def test_a_burst_never_overcommits(api: Api, scheduler: Scheduler, ns: str) -> None:
    for i in range(200):
        create(api, pod(f"burst-{i:03d}", "100m"), ns)

    def settled() -> bool:
        pending = scheduler.queue.pending()
        return not pending["active"] and not pending["inFlight"] and len(listed(api, ns)) == 200

    eventually(settled, timeout=90, what="the burst handled")
    time.sleep(0.5)  # the last binds' informer updates
    everyone = api.request("GET", PODS.collection_path())["items"]
    for name in ("worker-1", "worker-2"):
        on_node = [p for p in everyone if p["spec"].get("nodeName") == name]
        used = sum(pod_requests(p).get("cpu") for p in on_node)
        assert used <= amount("cpu", "2"), f"{name} overcommitted: {used}m of 2000m"
        assert used > amount("cpu", "2") - 100, f"{name} left room unused: {used}m of 2000m"
    ours = listed(api, ns)
    bound = [p for p in ours if p["spec"].get("nodeName")]
    assert 0 < len(bound) < 200 and not any(p["spec"].get("nodeName") == "control-plane" for p in ours)
