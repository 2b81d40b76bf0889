"""Checkpoint 14 (book 3.3.7): controller-runtime's metrics, scraped from the leader pod, move."""

from __future__ import annotations

from typing import Any

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.waiting import eventually

from .operatorlab import Samples, create, cronjob, exposed, leader_pod, metric, operator_pods, scrape

CONTROLLER = {"controller": "cronjob"}


def test_14_metrics_move(kubectl: Kubectl, namespace: str, operator: str, scheduled: dict[str, Any]) -> None:
    """Through the API server's pod proxy: reconciles (controller_runtime_reconcile_total by result), the
    work queue (workqueue_adds_total, depth, durations) and the webhooks
    (controller_runtime_webhook_requests_total by path and code) count up when a CronJob is created.

    Hint (3.3.7): kubelab_operator/metrics.py; `kubectl get --raw
    /api/v1/namespaces/kubelab-operator-system/pods/POD:8080/proxy/metrics`.
    """
    leader = leader_pod(kubectl)
    before = scrape(kubectl, leader)
    names = (
        "controller_runtime_reconcile_time_seconds_count",
        "workqueue_depth",
        "workqueue_work_duration_seconds_count",
        "controller_runtime_max_concurrent_reconciles",
        "controller_runtime_active_workers",
    )
    for name in names:
        assert exposed(before, name), f"{name} not exposed"
    assert metric(before, "controller_runtime_max_concurrent_reconciles", **CONTROLLER) >= 1
    assert create(kubectl, cronjob("metrics", namespace, operator, "0 0 1 1 *")).ok

    def moved() -> Samples:
        after = scrape(kubectl, leader)
        for name, labels in (
            ("controller_runtime_reconcile_total", CONTROLLER),
            ("workqueue_adds_total", {"name": "cronjob"}),
            ("workqueue_queue_duration_seconds_count", {"name": "cronjob"}),
        ):
            assert metric(after, name, **labels) > metric(before, name, **labels), name
        return after

    after = eventually(moved, timeout=20, what="the leader's reconcile and queue metrics to move")
    assert metric(after, "controller_runtime_reconcile_total", result="requeue_after", **CONTROLLER) > 0
    # the webhook calls land on either replica: sum both
    total = sum(
        metric(scrape(kubectl, p["metadata"]["name"]), "controller_runtime_webhook_requests_total", code="200")
        for p in operator_pods(kubectl)
    )
    assert total >= 2, "the create went through the mutating and the validating webhook"
