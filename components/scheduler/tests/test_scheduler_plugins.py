"""The plugins, table by table, against upstream's reasons and scores."""

from __future__ import annotations

from typing import Any

import pytest

from kubelab_scheduler.framework.runtime import Handle
from kubelab_scheduler.framework.status import Code, Diagnosis, FitError, Status
from kubelab_scheduler.plugins.nodeaffinity import NodeAffinity
from kubelab_scheduler.plugins.nodename import NodeName
from kubelab_scheduler.plugins.noderesources import NodeResourcesBalancedAllocation, NodeResourcesFit
from kubelab_scheduler.plugins.nodeunschedulable import NodeUnschedulable
from kubelab_scheduler.plugins.podtopologyspread import PodTopologySpread
from kubelab_scheduler.plugins.tainttoleration import TaintToleration
from kubelab_scheduler.resources import pod_requests

from .builders import info, node, pod

H = Handle()
CONTROL_PLANE = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def fit(p: dict[str, Any], *on: dict[str, Any], **n: Any) -> Status:
    plugin = NodeResourcesFit({}, H)
    state: dict[str, Any] = {}
    plugin.pre_filter(state, p, [])
    return plugin.filter(state, p, info(node("n1", **n), *on))


@pytest.mark.parametrize(
    ("name", "p", "on", "n", "reasons"),
    [
        ("fits", pod("a", "1"), [pod("b", "2", node_name="n1")], {}, ()),
        ("exactly full", pod("a", "2"), [pod("b", "2", node_name="n1")], {}, ()),
        ("cpu", pod("a", "3"), [pod("b", "2", node_name="n1")], {}, ("Insufficient cpu",)),
        ("memory", pod("a", "1", "9Gi"), [], {}, ("Insufficient memory",)),
        ("both", pod("a", "5", "9Gi"), [], {}, ("Insufficient cpu", "Insufficient memory")),
        ("pods", pod("a", "1"), [pod("b", "1", node_name="n1")], {"pods": 1}, ("Too many pods",)),
        ("gpu", pod("a", requests={"example.com/gpu": "1"}), [], {}, ("Insufficient example.com/gpu",)),
        ("gpu fits", pod("a", requests={"example.com/gpu": "1"}), [], {"example.com/gpu": "2"}, ()),
    ],
)
def test_resources_fit(
    name: str, p: dict[str, Any], on: list[dict[str, Any]], n: dict[str, Any], reasons: tuple[str, ...]
) -> None:
    status = fit(p, *on, **n)
    assert status.reasons == reasons, name
    assert status.is_success == (not reasons)


def test_requests_count_init_containers_sidecars_and_overhead() -> None:
    p = pod("a", "1")
    p["spec"]["initContainers"] = [
        {"name": "sidecar", "restartPolicy": "Always", "resources": {"requests": {"cpu": "500m"}}},
        {"name": "init", "resources": {"requests": {"cpu": "3"}}},
    ]
    p["spec"]["overhead"] = {"cpu": "250m"}
    assert pod_requests(p).get("cpu") == 3500 + 250  # max(1 + 0.5, 0.5 + 3) + overhead


def test_least_and_most_allocated_and_balance() -> None:
    empty, busy = info(node("empty")), info(node("busy"), pod("x", "3", "6Gi", node_name="busy"))
    least, most = NodeResourcesFit({}, H), NodeResourcesFit({"scoringStrategy": {"type": "MostAllocated"}}, H)
    p = pod("a", "1", "2Gi")
    assert least.score({}, p, empty)[0] > least.score({}, p, busy)[0]
    assert most.score({}, p, empty)[0] < most.score({}, p, busy)[0]
    assert least.score({}, p, empty)[0] == 75  # (3/4 cpu free + 6/8 memory free) / 2
    balanced = NodeResourcesBalancedAllocation({}, H)
    lopsided = info(node("l"), pod("y", "3", "1Gi", node_name="l"))
    assert balanced.score({}, p, empty)[0] == 100 and balanced.score({}, p, lopsided)[0] < 100
    with pytest.raises(ValueError, match=r"scoringStrategy\.type"):
        NodeResourcesFit({"scoringStrategy": {"type": "Random"}}, H)


def test_taints() -> None:
    plugin = TaintToleration({}, H)
    tainted = info(node("cp", taints=[CONTROL_PLANE]))
    refused = plugin.filter({}, pod("a"), tainted)
    assert refused.code is Code.UNSCHEDULABLE_AND_UNRESOLVABLE
    assert refused.reasons == ("node(s) had untolerated taint(s)",)
    tolerant = pod("a", tolerations=[{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}])
    assert plugin.filter({}, tolerant, tainted).is_success
    everything = pod("a", tolerations=[{"operator": "Exists"}])
    assert plugin.filter({}, everything, tainted).is_success
    wrong_value = pod("a", tolerations=[{"key": "k", "value": "v1", "effect": "NoSchedule"}])
    assert not plugin.filter(
        {}, wrong_value, info(node("n", taints=[{"key": "k", "value": "v2", "effect": "NoSchedule"}]))
    ).is_success
    prefer = {"key": "slow", "effect": "PreferNoSchedule"}
    scores = {
        "clean": plugin.score({}, pod("a"), info(node("clean")))[0],
        "slow": plugin.score({}, pod("a"), info(node("slow", taints=[prefer])))[0],
    }
    plugin.normalize({}, pod("a"), scores)
    assert scores == {"clean": 100, "slow": 0}


def test_node_affinity_selector_and_preferences() -> None:
    plugin = NodeAffinity({}, H)
    ssd = info(node("ssd", labels={"disk": "ssd", "zone": "a"}))
    hdd = info(node("hdd", labels={"disk": "hdd", "zone": "b"}))
    by_selector = pod("a", nodeSelector={"disk": "ssd"})
    assert plugin.filter({}, by_selector, ssd).is_success
    assert plugin.filter({}, by_selector, hdd).reasons == ("node(s) didn't match Pod's node affinity/selector",)
    required = {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [
                {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]},
                {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["ssd"]}]},
            ]
        }
    }
    either = pod("a", affinity={"nodeAffinity": required})
    assert plugin.filter({}, either, ssd).is_success and plugin.filter({}, either, hdd).is_success
    assert not plugin.filter({}, either, info(node("other", labels={"zone": "c"}))).is_success
    preferred = {
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 80, "preference": {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}},
            {"weight": 20, "preference": {"matchExpressions": [{"key": "zone", "operator": "Exists"}]}},
        ]
    }
    p = pod("a", affinity={"nodeAffinity": preferred})
    scores = {n.name: plugin.score({}, p, n)[0] for n in (ssd, hdd)}
    plugin.normalize({}, p, scores)
    assert scores == {"ssd": 100, "hdd": 20}


def test_unschedulable_and_node_name() -> None:
    cordoned = info(node("c", unschedulable=True))
    assert NodeUnschedulable({}, H).filter({}, pod("a"), cordoned).reasons == ("node(s) were unschedulable",)
    tolerant = pod("a", tolerations=[{"key": "node.kubernetes.io/unschedulable", "operator": "Exists"}])
    assert NodeUnschedulable({}, H).filter({}, tolerant, cordoned).is_success
    named = pod("a")
    named["spec"]["nodeName"] = "n2"
    assert NodeName({}, H).filter({}, named, info(node("n1"))).reasons == (
        "node(s) didn't match the requested node name",
    )


def spread(max_skew: int = 1, hard: bool = True) -> dict[str, Any]:
    return {
        "topologySpreadConstraints": [
            {
                "maxSkew": max_skew,
                "topologyKey": "zone",
                "whenUnsatisfiable": "DoNotSchedule" if hard else "ScheduleAnyway",
                "labelSelector": {"matchLabels": {"app": "web"}},
            }
        ]
    }


def test_topology_spread_filter_and_score() -> None:
    web = {"app": "web"}
    a1 = info(
        node("a1", labels={"zone": "a"}), pod("w1", labels=web, node_name="a1"), pod("w2", labels=web, node_name="a1")
    )
    b1 = info(node("b1", labels={"zone": "b"}), pod("w3", labels=web, node_name="b1"))
    nolabel = info(node("x"))
    plugin = PodTopologySpread({}, H)
    p = pod("new", labels=web, **spread())
    state: dict[str, Any] = {}
    plugin.pre_filter(state, p, [a1, b1, nolabel])
    assert plugin.filter(state, p, a1).reasons == ("node(s) didn't match pod topology spread constraints",)
    assert plugin.filter(state, p, b1).is_success
    assert plugin.filter(state, p, nolabel).reasons == (
        "node(s) didn't match pod topology spread constraints (missing required label)",
    )
    assert plugin.pre_filter({}, pod("plain"), [a1])[1].code is Code.SKIP
    soft = pod("new", labels=web, **spread(hard=False))
    state = {}
    plugin.pre_score(state, soft, [a1, b1])
    scores = {n.name: plugin.score(state, soft, n)[0] for n in (a1, b1)}
    plugin.normalize(state, soft, scores)
    assert scores["b1"] > scores["a1"]


def test_fit_error_message_is_upstreams() -> None:
    diagnosis = Diagnosis(
        {
            "cp": Status(
                Code.UNSCHEDULABLE_AND_UNRESOLVABLE,
                ("node(s) had untolerated taint(s)",),
            ),
            "w1": Status(Code.UNSCHEDULABLE, ("Insufficient cpu",)),
            "w2": Status(Code.UNSCHEDULABLE, ("Insufficient cpu", "Insufficient memory")),
        }
    )
    err = FitError(
        "default/a",
        3,
        diagnosis,
        post_filter="preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod",
    )
    assert err.message == (
        "0/3 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint(s), 2 Insufficient cpu. "
        "preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
    )
