"""A bind conflict on a real API server (envtest): another binder places the pod first, between this
scheduler's decision and its bind. The API server refuses the second bind (409, the UID precondition
and "already assigned"); the pod stays where the winner put it, is not announced Scheduled, and the
cache counts it once, on the winner's node."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from kubelab_client.kube import Api
from kubelab_client.resources import PODS
from kubelab_client.testing.envtest import ControlPlane
from kubelab_kit.testing import eventually, settled
from kubelab_scheduler.config import SchedulerConfiguration
from kubelab_scheduler.framework.interface import CycleState, Pod
from kubelab_scheduler.framework.runtime import Handle
from kubelab_scheduler.framework.status import Status
from kubelab_scheduler.plugins.defaultbinder import binding
from kubelab_scheduler.plugins.registry import in_tree
from kubelab_scheduler.scheduler import Scheduler

from .builders import node, pod
from .cluster import create, events_of, make_node, namespace, running

POOL = {"key": "pool", "value": "race", "effect": "NoSchedule"}
TOLERATE = [{"key": "pool", "operator": "Equal", "value": "race", "effect": "NoSchedule"}]
NODES = ("race-1", "race-2")


class Racer:
    """A pre-bind plugin that binds the pod to the other node first: a second scheduler winning the race."""

    name = "Racer"
    chosen: ClassVar[dict[str, str]] = {}  # pod name -> the node this scheduler chose

    def __init__(self, args: dict[str, Any], handle: Handle) -> None:
        self.handle = handle

    def pre_bind(self, state: CycleState, pod: Pod, node: str) -> Status:
        other = NODES[1] if node == NODES[0] else NODES[0]
        meta = pod["metadata"]
        self.handle.api.request(
            "POST", PODS.object_path(meta["name"], meta["namespace"]) + "/binding", body=binding(pod, other)
        )
        Racer.chosen[meta["name"]] = node
        return Status()


@pytest.fixture(scope="module")
def api(control_plane: ControlPlane) -> Iterator[Api]:
    client = control_plane.api()
    for name in NODES:
        make_node(client, node(name, cpu="1", memory="4Gi", labels={"pool": "race"}, taints=[POOL]))
    yield client
    client.close()


@pytest.fixture(scope="module")
def scheduler(api: Api) -> Iterator[Scheduler]:
    config = SchedulerConfiguration.model_validate(
        {"profiles": [{"schedulerName": "kubelab-scheduler", "plugins": {"preBind": {"enabled": [{"name": "Racer"}]}}}]}
    )
    with running(api, config, registry={**in_tree(), "Racer": (Racer, Racer)}) as sched:
        yield sched


def test_the_second_bind_is_refused_and_the_winner_kept(api: Api, scheduler: Scheduler) -> None:
    ns = namespace(api, "bind-conflict")
    create(api, pod("raced", "300m", tolerations=TOLERATE, nodeSelector={"pool": "race"}), ns)
    where = eventually(lambda: api.get(PODS, "raced", ns)["spec"].get("nodeName"), what="the pod bound")
    ours = eventually(lambda: Racer.chosen.get("raced"), what="our decision")
    assert where != ours, "the winner's bind must stand"

    def failed() -> list[str]:
        return [e["note"] for e in events_of(api, ns, "raced") if e["reason"] == "FailedScheduling"]

    said = eventually(failed, what="the refused bind reported")
    assert f"binding {ns}/raced to {ours}: 409" in said[0] and "already assigned" in said[0], said
    assert not [e for e in events_of(api, ns, "raced") if e["reason"] == "Scheduled"]

    def counted() -> dict[str, list[str]]:
        snap = scheduler.cache.snapshot()
        return {n: sorted(p["metadata"]["name"] for p in snap[n].pods.values()) for n in NODES}

    assert settled(counted, quiet=2, timeout=20, what="the cache") == {where: ["raced"], ours: []}
