"""The agent follows nodes through the Chapter 2 informer: against kubelab_client's fake API
server (no cluster, no root, no netlink: the route sync is a recorder)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kubelab_client.kube import Api
from kubelab_client.listwatch import ListWatch
from kubelab_client.resources import NODES
from kubelab_client.testing import FakeApiServer, Fault, fast_reflector_options, running_fake
from kubelab_cni.agent.main import Agent, parser
from kubelab_cni.agent.nodeinfo import NodeInfo, node_info
from kubelab_cni.agent.nodewatch import NodeWatcher


def node(name: str, ip: str, cidr: str | None, **labels: str) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "metadata": {"name": name, "labels": labels},
        "spec": {"podCIDR": cidr} if cidr else {},
        "status": {"addresses": [{"type": "Hostname", "address": name}, {"type": "InternalIP", "address": ip}]},
    }
    return obj


class Syncs:
    """A route sync that records what it is called with."""

    def __init__(self) -> None:
        self.calls: list[list[NodeInfo]] = []
        self.fail_next = 0
        self._cond = threading.Condition()

    def __call__(self, nodes: list[NodeInfo]) -> None:
        with self._cond:
            if self.fail_next:
                self.fail_next -= 1
                raise OSError("netlink says no")
            self.calls.append(list(nodes))
            self._cond.notify_all()

    @property
    def last(self) -> dict[str, NodeInfo]:
        with self._cond:
            return {n.name: n for n in self.calls[-1]} if self.calls else {}

    def wait(self, predicate: Callable[[dict[str, NodeInfo]], bool], timeout: float = 5.0) -> dict[str, NodeInfo]:
        with self._cond:
            assert self._cond.wait_for(lambda: bool(self.calls) and predicate(self.last), timeout), self.calls
            return self.last


@pytest.fixture
def fake() -> Iterator[FakeApiServer]:
    """The fake API server serves nodes here (the client's fixtures serve ConfigMaps)."""
    with running_fake(NODES) as server:
        yield server


def watcher(api: Api, syncs: Syncs) -> NodeWatcher:
    return NodeWatcher(ListWatch(api, NODES), syncs, reflector_options=fast_reflector_options())


def test_node_info_reads_name_internal_ip_and_pod_cidr() -> None:
    assert node_info(node("a", "172.18.0.2", "10.244.1.0/24")) == NodeInfo("a", "172.18.0.2", "10.244.1.0/24")
    assert node_info({"metadata": {"name": "b"}}) == NodeInfo("b", "", "")


def test_nodes_added_changed_and_deleted_resync_the_routes(
    fake: FakeApiServer, api: Api, stop: threading.Event
) -> None:
    fake.create(node("a", "172.18.0.2", "10.244.0.0/24"))
    syncs = Syncs()
    nodes = watcher(api, syncs)
    nodes.start(stop)
    me = nodes.wait_for_pod_cidr("a", stop, timeout=5)
    assert me == NodeInfo("a", "172.18.0.2", "10.244.0.0/24")
    assert syncs.calls == [], "nothing is synced before the agent turns syncing on"
    nodes.enable_sync()
    assert syncs.calls == [[me]]

    # added
    b = fake.create(node("b", "172.18.0.3", "10.244.1.0/24"))
    assert syncs.wait(lambda last: "b" in last)["b"] == NodeInfo("b", "172.18.0.3", "10.244.1.0/24")
    # podCIDR changed
    b["spec"]["podCIDR"] = "10.244.7.0/24"
    b = fake.update(b)
    assert syncs.wait(lambda last: last["b"].pod_cidr == "10.244.7.0/24")["a"] == me
    # InternalIP changed
    b["status"]["addresses"][1]["address"] = "172.18.0.9"
    b = fake.update(b)
    syncs.wait(lambda last: last["b"].internal_ip == "172.18.0.9")
    # an edit that changes no route (a label, a heartbeat) syncs nothing: the next sync is c's
    before = len(syncs.calls)
    b["metadata"]["labels"] = {"touched": "yes"}
    fake.update(b)
    fake.create(node("c", "172.18.0.4", "10.244.2.0/24"))
    syncs.wait(lambda last: "c" in last)
    assert len(syncs.calls) == before + 1
    # deleted
    fake.delete("", "b")
    last = syncs.wait(lambda last: "b" not in last)
    assert sorted(last) == ["a", "c"]
    assert [n.name for n in nodes.nodes()] == ["a", "c"]


def test_a_node_deleted_while_not_watching_is_removed_after_the_relist(
    fake: FakeApiServer, api: Api, stop: threading.Event
) -> None:
    for name, i in (("a", 2), ("b", 3)):
        fake.create(node(name, f"172.18.0.{i}", f"10.244.{i}.0/24"))
    syncs = Syncs()
    nodes = watcher(api, syncs)
    nodes.start(stop)
    assert nodes.wait_for_pod_cidr("b", stop, timeout=5) is not None
    nodes.enable_sync()
    # the watch expires (410); the relist is held until b is gone: its delete is a tombstone
    assert fake.wait_for(lambda: fake.open_watches() == 1)
    arrived, release = threading.Event(), threading.Event()
    fake.inject(Fault(on="list", arrived=arrived, hold_until=release))
    assert fake.expire_watches() == 1
    assert arrived.wait(5)
    fake.delete("", "b")
    release.set()
    assert sorted(syncs.wait(lambda last: "b" not in last)) == ["a"]


def test_a_failed_sync_does_not_stop_the_watch(fake: FakeApiServer, api: Api, stop: threading.Event) -> None:
    fake.create(node("a", "172.18.0.2", "10.244.0.0/24"))
    syncs = Syncs()
    nodes = watcher(api, syncs)
    nodes.start(stop)
    assert nodes.wait_for_pod_cidr("a", stop, timeout=5) is not None
    nodes.enable_sync()
    syncs.fail_next = 1
    fake.create(node("b", "172.18.0.3", "10.244.1.0/24"))  # its sync fails (logged)
    fake.create(node("c", "172.18.0.4", "10.244.2.0/24"))
    assert sorted(syncs.wait(lambda last: "c" in last)) == ["a", "b", "c"]
    nodes.sync()  # what the periodic resync does
    assert sorted(syncs.last) == ["a", "b", "c"]


def test_waiting_for_the_pod_cidr(fake: FakeApiServer, api: Api, stop: threading.Event) -> None:
    a = fake.create(node("a", "172.18.0.2", None))
    nodes = watcher(api, Syncs())
    nodes.start(stop)
    assert nodes.wait_for_pod_cidr("a", stop, timeout=0.5) is None  # listed, but no podCIDR yet
    got: list[NodeInfo | None] = []
    waiter = threading.Thread(target=lambda: got.append(nodes.wait_for_pod_cidr("a", stop)))
    waiter.start()
    a = copy.deepcopy(a)
    a["spec"]["podCIDR"] = "10.244.0.0/24"
    fake.update(a)
    waiter.join(5)
    assert got == [NodeInfo("a", "172.18.0.2", "10.244.0.0/24")]
    # stopping ends a wait
    other = threading.Thread(target=lambda: got.append(nodes.wait_for_pod_cidr("never", stop)))
    other.start()
    stop.set()
    other.join(5)
    assert not other.is_alive() and got[-1] is None


def test_the_agent_wires_its_route_sync_to_the_informer(fake: FakeApiServer, api: Api, stop: threading.Event) -> None:
    fake.create(node("a", "172.18.0.2", "10.244.0.0/24"))
    fake.create(node("b", "172.18.0.3", "10.244.1.0/24"))
    calls: list[tuple[str, list[str], str]] = []
    done = threading.Event()

    def sync_routes(own: str, nodes: Any, cluster_cidr: str) -> None:
        calls.append((own, sorted(n.name for n in nodes), cluster_cidr))
        done.set()

    args = parser().parse_args(["--node-name", "a", "--cluster-cidr", "10.244.0.0/16"])
    agent = Agent(args, ListWatch(api, NODES), sync_routes=sync_routes)
    agent.nodes.start(stop)
    assert agent.nodes.wait_for_pod_cidr("a", stop, timeout=5) is not None
    agent.nodes.enable_sync()
    assert done.wait(5)
    assert calls == [("a", ["a", "b"], "10.244.0.0/16")]


def test_the_manifests_flags_are_still_accepted() -> None:
    args = parser().parse_args(
        [
            "--node-name=kubelab-worker",
            "--cluster-cidr=10.244.0.0/16",
            "--host-root=/host",
            "--impl-archive=/etc/kubelab-cni-impl/impl.tar.gz",
            "--resync=30",
            "--ready-file=/tmp/ready",
        ]
    )
    assert (args.node_name, args.cluster_cidr, args.host_root, args.impl_archive, args.resync, args.ready_file) == (
        "kubelab-worker",
        "10.244.0.0/16",
        "/host",
        "/etc/kubelab-cni-impl/impl.tar.gz",
        30,
        "/tmp/ready",
    )
    assert parser().parse_args(["--cluster-cidr=10.244.0.0/16"]).resync == 60
