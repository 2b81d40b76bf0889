"""Checkpoints 2-5 (book 8.3, 8.4): filters and scores on the real nodes, and what the scheduler says."""

from __future__ import annotations

from collections import Counter

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube
from kubelab_labkit.namespaces import MakeNamespace
from kubelab_labkit.nodes import CONTROL_PLANE_LABEL, workers
from kubelab_labkit.waiting import eventually

from .schedlab import notes, on_workers, pod, pods_in

CONTROL_PLANE_TOLERATION = [{"key": CONTROL_PLANE_LABEL, "operator": "Exists", "effect": "NoSchedule"}]


def node_of(kubectl: Kubectl, ns: str, name: str) -> str:
    got = kubectl.json("-n", ns, "get", "pod", name)
    return str(got["spec"].get("nodeName") or "")


def test_02_too_big_says_why(kubectl: Kubectl, make_namespace: MakeNamespace, scheduler: str) -> None:
    """A pod asking for 100 CPUs stays Pending with upstream's FailedScheduling message (preemption
    included: evicting lower-priority pods would not help) and the PodScheduled=False/Unschedulable condition.

    Hint (8.2, 8.3): plugins/noderesources.py (Insufficient cpu), plugins/tainttoleration.py, and the
    message in framework/status.py FitError; `kubectl -n kubelab-scheduler-fit describe pod huge`.
    """
    ns = make_namespace("kubelab-scheduler-fit")
    kube.apply(kubectl, pod("huge", ns, "100"))
    expected = (
        "0/3 nodes are available: 1 node(s) had untolerated taint(s), "
        "2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, "
        "2 No preemption victims found for incoming pod."
    )
    said = eventually(lambda: notes(kubectl, ns, "huge"), timeout=30, what="a FailedScheduling event")
    assert said[0] == expected
    cond = next(
        c for c in kubectl.json("-n", ns, "get", "pod", "huge")["status"]["conditions"] if c["type"] == "PodScheduled"
    )
    assert (cond["status"], cond["reason"]) == ("False", "Unschedulable") and "Insufficient cpu" in cond["message"]
    assert not node_of(kubectl, ns, "huge")


def test_03_selector_affinity_tolerations(kubectl: Kubectl, make_namespace: MakeNamespace, scheduler: str) -> None:
    """nodeSelector pins a pod to a worker; a toleration plus a selector lets one onto the control plane;
    required affinity NotIn keeps one off a node.

    Hint (8.3): plugins/nodeaffinity.py, plugins/tainttoleration.py, selectors.py.
    """
    ns = make_namespace("kubelab-scheduler-affinity")
    w1, w2 = workers(kubectl)
    away = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "NotIn", "values": [w2]}]}
                ]
            }
        }
    }
    kube.apply(
        kubectl,
        pod("pinned", ns, nodeSelector={"kubernetes.io/hostname": w2}),
        pod("on-control-plane", ns, nodeSelector={CONTROL_PLANE_LABEL: ""}, tolerations=CONTROL_PLANE_TOLERATION),
        pod("not-w2", ns, affinity=away),
    )
    placed = eventually(
        lambda: (
            all(node_of(kubectl, ns, n) for n in ("pinned", "on-control-plane", "not-w2"))
            and {n: node_of(kubectl, ns, n) for n in ("pinned", "on-control-plane", "not-w2")}
        ),
        timeout=30,
        what="three binds",
    )
    assert placed["pinned"] == w2 and placed["not-w2"] == w1
    assert placed["on-control-plane"] not in (w1, w2)


def test_04_topology_spread(kubectl: Kubectl, make_namespace: MakeNamespace, scheduler: str) -> None:
    """Six pods with a DoNotSchedule spread (maxSkew 1 over hostname, on the workers) land 3 and 3.

    Hint (8.3): plugins/podtopologyspread.py; the control plane is no domain because the pods'
    required node affinity excludes it (nodeAffinityPolicy: Honor).
    """
    ns = make_namespace("kubelab-scheduler-spread")
    spread = [
        {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app": "spread"}},
        }
    ]
    kube.apply(
        kubectl,
        *[
            pod(
                f"spread-{i}",
                ns,
                labels={"app": "spread"},
                topologySpreadConstraints=spread,
                affinity=on_workers(kubectl),
            )
            for i in range(6)
        ],
    )

    def counts() -> Counter[str]:
        placed = [
            p["spec"].get("nodeName") for p in pods_in(kubectl, ns) if p["metadata"]["name"].startswith("spread-")
        ]
        return Counter(placed) if all(placed) and len(placed) == 6 else Counter()

    got = eventually(counts, timeout=30, what="six binds")
    assert sorted(got.values()) == [3, 3], got


def test_05_scheduled_events(kubectl: Kubectl, make_namespace: MakeNamespace, scheduler: str) -> None:
    """Each bind is announced as kube-scheduler does: a Scheduled event "Successfully assigned NS/POD to NODE"
    reported by kubelab-scheduler, and the pod runs (the kubelet admits what was bound).

    Hint (8.2): events.py (events.k8s.io/v1); `kubectl -n kubelab-scheduler-events get events`.
    """
    ns = make_namespace("kubelab-scheduler-events")
    kube.apply(kubectl, pod("hello", ns, affinity=on_workers(kubectl)))
    kube.wait_for(kubectl, "pod/hello", "condition=Ready", namespace=ns, timeout=60)
    node = node_of(kubectl, ns, "hello")
    assert f"Successfully assigned {ns}/hello to {node}" in notes(kubectl, ns, "hello", "Scheduled")
