"""Gang scheduling on a real API server (envtest): a PodGroup's pods bind all together or not at all.

Two nodes of 1 CPU, tainted so that only these tests' pods (which tolerate the taint) go there;
members ask for 500m, so the pool holds four.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from kubelab_client.errors import ApiError
from kubelab_client.kube import Api
from kubelab_client.resources import PODS, Resource
from kubelab_client.testing.envtest import ControlPlane, install_crd
from kubelab_kit.testing import eventually, settled
from kubelab_scheduler.config import SchedulerConfiguration
from kubelab_scheduler.gang.podgroups import LABEL, PODGROUPS
from kubelab_scheduler.scheduler import Scheduler

from .builders import node, pod
from .cluster import create, events_of, listed, make_node, namespace

CRD = __import__("pathlib").Path(__file__).resolve().parents[1] / "deploy" / "podgroup-crd.yaml"
POOL = {"key": "pool", "value": "gang", "effect": "NoSchedule"}
TOLERATE = [{"key": "pool", "operator": "Equal", "value": "gang", "effect": "NoSchedule"}]
CONFIG = SchedulerConfiguration.model_validate(
    {
        "profiles": [
            {
                "schedulerName": "kubelab-scheduler",
                "plugins": {"multiPoint": {"enabled": [{"name": "Coscheduling"}]}},
                "pluginConfig": [{"name": "Coscheduling", "args": {"permitBackoffSeconds": 1}}],
            }
        ]
    }
)


@pytest.fixture(scope="module")
def api(control_plane: ControlPlane) -> Iterator[Api]:
    import yaml

    client = control_plane.api()
    install_crd(client, yaml.safe_load(CRD.read_text()))
    for name in ("gang-1", "gang-2"):
        make_node(client, node(name, cpu="1", memory="4Gi", labels={"pool": "gang"}, taints=[POOL]))
    yield client
    client.close()


@pytest.fixture(scope="module")
def scheduler_config() -> SchedulerConfiguration:
    return CONFIG


@pytest.fixture
def ns(api: Api, request: pytest.FixtureRequest) -> Iterator[str]:
    name = namespace(api, request.node.name)
    yield name
    for p in listed(api, name):  # free the pool for the next test
        api.request("DELETE", PODS.object_path(p["metadata"]["name"], name), {"gracePeriodSeconds": "0"})
    eventually(lambda: not listed(api, name), what="the test's pods gone")


def group(api: Api, ns: str, name: str, min_member: int, timeout: int = 30) -> None:
    body = {
        "apiVersion": "scheduling.kubelab.dev/v1alpha1",
        "kind": "PodGroup",
        "metadata": {"name": name},
        "spec": {"minMember": min_member, "scheduleTimeoutSeconds": timeout},
    }
    api.create(PODGROUPS, body, ns)


def member(name: str, gang: str, cpu: str = "500m", **spec: Any) -> dict[str, Any]:
    p = pod(name, cpu, labels={LABEL: gang}, tolerations=TOLERATE, nodeSelector={"pool": "gang"}, **spec)
    return p


def bound(api: Api, ns: str, gang: str) -> list[str]:
    return sorted(
        p["metadata"]["name"]
        for p in listed(api, ns)
        if (p["metadata"].get("labels") or {}).get(LABEL) == gang and p["spec"].get("nodeName")
    )


def settle(api: Api, ns: str) -> dict[str, list[str]]:
    """Binds per gang once nothing changed for 2.5 s."""
    return settled(lambda: {g: bound(api, ns, g) for g in ("a", "b", "g")}, quiet=2.5, timeout=40, what="binds")


def test_a_gang_with_room_for_two_binds_none_until_room_frees_then_all(api: Api, scheduler: Scheduler, ns: str) -> None:
    blocker = pod("blocker", "1", tolerations=TOLERATE, nodeSelector={"pool": "gang"})
    create(api, blocker, ns)
    eventually(lambda: api.get(PODS, "blocker", ns)["spec"].get("nodeName"), what="the blocker bound")
    group(api, ns, "g", 3)
    for i in range(3):
        create(api, member(f"g-{i}", "g"), ns)
    assert settle(api, ns)["g"] == []

    def refused() -> list[dict[str, Any]]:
        return [e for e in events_of(api, ns, "g-0") if e["reason"] == "FailedScheduling"]

    note = eventually(refused, what="FailedScheduling")[-1]["note"]
    assert "not enough room for pod group" in note, note
    api.request("DELETE", PODS.object_path("blocker", ns), {"gracePeriodSeconds": "0"})
    assert eventually(lambda: len(bound(api, ns, "g")) == 3 and bound(api, ns, "g"), what="all three bound")
    status = eventually(
        lambda: (
            api.get(PODGROUPS, "g", ns).get("status", {}).get("phase") == "Scheduled"
            and api.get(PODGROUPS, "g", ns)["status"]
        ),
        what="the PodGroup Scheduled",
    )
    assert status["scheduled"] == 3


def test_two_competing_gangs_one_complete_the_other_waiting_never_partial(
    api: Api, scheduler: Scheduler, ns: str
) -> None:
    group(api, ns, "a", 3)
    group(api, ns, "b", 3)
    for i in range(3):  # interleaved: a-0, b-0, a-1, b-1, ...
        create(api, member(f"a-{i}", "a"), ns)
        create(api, member(f"b-{i}", "b"), ns)
    final = settle(api, ns)
    assert sorted(len(final[g]) for g in ("a", "b")) == [0, 3], final


def test_reservations_are_released_on_timeout(api: Api, scheduler: Scheduler, ns: str) -> None:
    group(api, ns, "g", 3, timeout=2)
    create(api, member("g-0", "g"), ns)
    create(api, member("g-1", "g"), ns)
    stuck = member("g-2", "g")
    stuck["spec"]["nodeSelector"] = {"pool": "gang", "disk": "none-has-this"}  # can never be placed
    create(api, stuck, ns)
    time.sleep(4)  # past the 2 s timeout
    assert bound(api, ns, "g") == []
    free = pod("after", "1", tolerations=TOLERATE, nodeSelector={"pool": "gang"})
    create(api, free, ns)  # the room the gang held is free again
    assert eventually(lambda: api.get(PODS, "after", ns)["spec"].get("nodeName"), what="a pod in the released room")


def test_a_group_larger_than_the_cluster_waits_with_a_clear_reason(api: Api, scheduler: Scheduler, ns: str) -> None:
    group(api, ns, "g", 6)
    for i in range(6):
        create(api, member(f"g-{i}", "g"), ns)
    assert settle(api, ns)["g"] == []
    notes = {
        e["note"] for name in ("g-0", "g-5") for e in events_of(api, ns, name) if e["reason"] == "FailedScheduling"
    }
    assert any("its 6 remaining members do not all fit" in n for n in notes), notes


def test_too_few_members_and_no_podgroup(api: Api, scheduler: Scheduler, ns: str) -> None:
    group(api, ns, "g", 3)
    create(api, member("g-0", "g"), ns)
    create(api, member("orphan", "nonexistent"), ns)
    settle(api, ns)
    notes = {e["note"] for e in events_of(api, ns, "g-0") if e["reason"] == "FailedScheduling"}
    assert any("cannot find enough sibling pods, current pods number: 1, minMember of group: 3" in n for n in notes)
    orphan = {e["note"] for e in events_of(api, ns, "orphan") if e["reason"] == "FailedScheduling"}
    assert any(f"PodGroup {ns}/nonexistent not found" in n for n in orphan), orphan


PRIORITY_CLASSES = Resource("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", namespaced=False)


@pytest.fixture(scope="module")
def priorities(api: Api) -> dict[str, str]:
    classes = {"low": "kubelab-gang-low", "high": "kubelab-gang-high"}
    for level, name in classes.items():
        try:
            api.create(PRIORITY_CLASSES, {"metadata": {"name": name}, "value": 10 if level == "low" else 1000})
        except ApiError as exc:
            if not exc.is_already_exists:
                raise
    return classes


def prioritized(p: dict[str, Any], priority_class: str) -> dict[str, Any]:
    p["spec"]["priorityClassName"] = priority_class
    p["spec"].pop("priority", None)  # the Priority admission plugin sets it from the class
    return p


def fill_with_low(api: Api, ns: str, priorities: dict[str, str], count: int = 4) -> None:
    for i in range(count):
        low = member(f"low-{i}", "", cpu="500m", terminationGracePeriodSeconds=0)  # no kubelet here to confirm
        create(api, prioritized(low, priorities["low"]), ns)
    eventually(lambda: len([p for p in listed(api, ns) if p["spec"].get("nodeName")]) == count, what="low bound")


def test_a_high_priority_gang_evicts_the_fewest_lower_pods_and_binds_whole(
    api: Api, scheduler: Scheduler, ns: str, priorities: dict[str, str]
) -> None:
    fill_with_low(api, ns, priorities)  # the pool is full: 4 x 500m on 2 x 1 CPU
    group(api, ns, "g", 3)
    for i in range(3):
        create(api, prioritized(member(f"g-{i}", "g"), priorities["high"]), ns)
    assert eventually(lambda: len(bound(api, ns, "g")) == 3, timeout=40, what="the whole gang bound")
    low_left = [p["metadata"]["name"] for p in listed(api, ns) if p["metadata"]["name"].startswith("low-")]
    assert len(low_left) == 1, f"three victims make room for three members: {low_left}"


def test_no_victim_dies_for_a_gang_that_would_not_fit_anyway(
    api: Api, scheduler: Scheduler, ns: str, priorities: dict[str, str]
) -> None:
    fill_with_low(api, ns, priorities)
    group(api, ns, "g", 3)
    for i in range(3):  # 600m each: one per 1-CPU node, so 3 never fit, whatever is evicted
        create(api, prioritized(member(f"g-{i}", "g", cpu="600m"), priorities["high"]), ns)
    assert settle(api, ns)["g"] == []
    assert len([p for p in listed(api, ns) if p["metadata"]["name"].startswith("low-")]) == 4
    notes = {e["note"] for e in events_of(api, ns, "g-0") if e["reason"] == "FailedScheduling"}
    expected = (
        "gang preemption: evicting every lower-priority pod would not make room for the 3 remaining members "
        f"of pod group {ns}/g."
    )
    assert any(expected in n for n in notes), notes
