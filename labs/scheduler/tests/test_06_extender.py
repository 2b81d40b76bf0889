"""Checkpoints 10-12 (book 8.3): the extender in the cluster's own kube-scheduler.

cluster/kube-scheduler.yaml lists the extender for pods that request ``kubelab.dev/extender``;
these checkpoints deploy it (``kubelab-scheduler extender`` on the control-plane node's host
network) and label the workers to steer it. The labels go when the module ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube
from kubelab_labkit.namespaces import MakeNamespace
from kubelab_labkit.nodes import workers
from kubelab_labkit.waiting import eventually
from kubelab_scheduler.extender import policy

from .schedlab import EXTENDER, SYSTEM_NS, deploy_extender, extender_pod, notes, pods_in

Label = Callable[[str, dict[str, str | None]], None]


@pytest.fixture(scope="module")
def extender(kubectl: Kubectl, component_image: str) -> str:
    """The extender's pod is Ready on the control-plane node.

    Hint (8.3): `kubectl -n kubelab-scheduler-system get pods -l app=kubelab-extender -o wide` and
    `kubectl -n kubelab-scheduler-system logs deploy/kubelab-extender`; extender/app.py serves /healthz.
    """
    deploy_extender(kubectl, component_image)
    return component_image


@pytest.fixture
def label(kubectl: Kubectl) -> Iterator[Label]:
    """Set (value) or remove (None) node labels; every label the test touched is removed at the end."""
    touched: set[tuple[str, str]] = set()

    def set_labels(node: str, labels: dict[str, str | None]) -> None:
        args = [f"{k}-" if v is None else f"{k}={v}" for k, v in labels.items()]
        kubectl.run("label", "node", node, "--overwrite", *args)
        touched.update((node, k) for k in labels)

    yield set_labels
    for node, key in touched:
        kubectl.run("label", "node", node, f"{key}-", check=False)


def placement(kubectl: Kubectl, ns: str, count: int) -> dict[str, tuple[str, str]]:
    """pod name -> (node, who bound it), once all ``count`` pods are bound."""

    def bound() -> dict[str, tuple[str, str]]:
        got = {
            p["metadata"]["name"]: (
                p["spec"].get("nodeName") or "",
                (p["metadata"].get("annotations") or {}).get(policy.BOUND_BY, ""),
            )
            for p in pods_in(kubectl, ns)
        }
        return got if len(got) == count and all(node for node, _ in got.values()) else {}

    return eventually(bound, timeout=60, what=f"{count} pods bound by kube-scheduler")


def test_10_extender_filters_prioritizes_and_binds(
    kubectl: Kubectl, make_namespace: MakeNamespace, extender: str, label: Label
) -> None:
    """kube-scheduler places pods asking for kubelab.dev/extender where the extender says: a worker it
    rejects gets none even with the top priority; with no rejection, all go to the top-priority worker;
    each is bound by the extender's bind verb (its annotation on the pod).

    Hint (8.3): extender/app.py (/filter drops rejected nodes into FailedNodes, /prioritize scores 0-10,
    /bind posts pods/binding with the annotation), extender/policy.py; kube-scheduler's log:
    `kubectl -n kube-system logs kube-scheduler-kubelab-control-plane | grep -i extender`.
    """
    w1, w2 = workers(kubectl)
    label(w1, {policy.FILTER_LABEL: "reject", policy.SCORE_LABEL: "10"})
    label(w2, {policy.SCORE_LABEL: "1"})
    ns = make_namespace("kubelab-extender-place")
    kube.apply(kubectl, *[extender_pod(f"f-{i}", ns) for i in range(3)])
    assert set(placement(kubectl, ns, 3).values()) == {(w2, policy.NAME)}, "the rejected worker got a pod"

    label(w1, {policy.FILTER_LABEL: None})
    kube.apply(kubectl, *[extender_pod(f"p-{i}", ns) for i in range(3)])
    placed = placement(kubectl, ns, 6)
    assert {placed[f"p-{i}"] for i in range(3)} == {(w1, policy.NAME)}, "not all on the top-priority worker"


def test_11_extender_rejecting_every_node_says_why(
    kubectl: Kubectl, make_namespace: MakeNamespace, extender: str, label: Label
) -> None:
    """With both workers rejected the pod stays Pending, and kube-scheduler's FailedScheduling message
    carries the extender's reason per node.

    Hint (8.3): the reason is the FailedNodes value extender/app.py returns (extender/policy.py rejection).
    """
    w1, w2 = workers(kubectl)
    label(w1, {policy.FILTER_LABEL: "reject"})
    label(w2, {policy.FILTER_LABEL: "reject"})
    ns = make_namespace("kubelab-extender-reject")
    kube.apply(kubectl, extender_pod("nowhere", ns))
    said = eventually(lambda: notes(kubectl, ns, "nowhere"), timeout=60, what="a FailedScheduling event")
    assert said[0].startswith("0/3 nodes are available: "), said[0]
    assert f"2 rejected by {policy.NAME}: node labelled {policy.FILTER_LABEL}=reject" in said[0], said[0]
    assert not kubectl.json("-n", ns, "get", "pod", "nowhere")["spec"].get("nodeName")


def test_12_extender_down_then_back(kubectl: Kubectl, make_namespace: MakeNamespace, extender: str) -> None:
    """The extender scaled to 0: a pod asking for it is not placed without it (FailedScheduling names the
    refused call); scaled back, the same pod is bound by it. Other pods never depended on it.

    Hint (8.3): cluster/kube-scheduler.yaml (ignorable: false, managedResources); the extender must answer
    on 127.0.0.1:10290 on the control-plane node (deploy/extender.yaml).
    """
    ns = make_namespace("kubelab-extender-down")
    kubectl.run("-n", SYSTEM_NS, "scale", f"deployment/{EXTENDER}", "--replicas=0")
    try:
        kubectl.run("-n", SYSTEM_NS, "wait", "--for=delete", "pod", "-l", f"app={EXTENDER}", "--timeout=60s")
        kube.apply(kubectl, extender_pod("waits", ns))
        said = eventually(lambda: notes(kubectl, ns, "waits"), timeout=60, what="a FailedScheduling event")
        assert "127.0.0.1:10290" in said[0] and "connection refused" in said[0], said[0]
        assert not kubectl.json("-n", ns, "get", "pod", "waits")["spec"].get("nodeName")
    finally:
        kubectl.run("-n", SYSTEM_NS, "scale", f"deployment/{EXTENDER}", "--replicas=1")
        kube.rollout(kubectl, f"deployment/{EXTENDER}", namespace=SYSTEM_NS, timeout=120)
    node, bound_by = placement(kubectl, ns, 1)["waits"]
    assert node in workers(kubectl) and bound_by == policy.NAME
