"""The operator's Prometheus metrics, with the names and labels a Go operator
(controller-runtime and client-go's workqueue) exposes, so the same dashboards and alerts work.

======================================================  ===============================
metric                                                   labels
======================================================  ===============================
``controller_runtime_reconcile_total``                   controller, result (success,
                                                         error, requeue, requeue_after)
``controller_runtime_reconcile_errors_total``            controller
``controller_runtime_reconcile_time_seconds``            controller (histogram)
``controller_runtime_max_concurrent_reconciles``         controller
``controller_runtime_active_workers``                    controller
``workqueue_depth`` / ``workqueue_adds_total``           name, controller
``workqueue_queue_duration_seconds``                     name, controller (histogram)
``workqueue_work_duration_seconds``                      name, controller (histogram)
``workqueue_retries_total``                              name, controller
``controller_runtime_webhook_latency_seconds``           webhook (histogram)
``controller_runtime_webhook_requests_total``            webhook, code
``controller_runtime_webhook_requests_in_flight``        webhook
``kubelab_leader``                                       (1 while this replica leads)
======================================================  ===============================
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# controller-runtime's buckets for reconcile time and client-go's for the work queue
RECONCILE_BUCKETS = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.15,
    0.2,
    0.25,
    0.3,
    0.35,
    0.4,
    0.45,
    0.5,
    0.6,
    0.7,
    0.8,
    0.9,
    1.0,
    1.25,
    1.5,
    1.75,
    2.0,
    2.5,
    3.0,
    3.5,
    4.0,
    4.5,
    5,
    6,
    7,
    8,
    9,
    10,
    15,
    20,
    25,
    30,
    40,
    50,
    60,
)
QUEUE_BUCKETS = tuple(10.0**e for e in range(-8, 2))  # 1e-8 .. 10 s, exponential by 10
WEBHOOK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

RECONCILE_TOTAL = Counter(
    "controller_runtime_reconcile_total", "Total number of reconciliations per controller", ["controller", "result"]
)
RECONCILE_ERRORS = Counter(
    "controller_runtime_reconcile_errors_total", "Total number of reconciliation errors per controller", ["controller"]
)
RECONCILE_TIME = Histogram(
    "controller_runtime_reconcile_time_seconds",
    "Length of time per reconciliation per controller",
    ["controller"],
    buckets=RECONCILE_BUCKETS,
)
MAX_CONCURRENT = Gauge(
    "controller_runtime_max_concurrent_reconciles",
    "Maximum number of concurrent reconciles per controller",
    ["controller"],
)
ACTIVE_WORKERS = Gauge(
    "controller_runtime_active_workers", "Number of currently used workers per controller", ["controller"]
)

QUEUE_DEPTH = Gauge("workqueue_depth", "Current depth of workqueue", ["name", "controller"])
QUEUE_ADDS = Counter("workqueue_adds_total", "Total number of adds handled by workqueue", ["name", "controller"])
QUEUE_LATENCY = Histogram(
    "workqueue_queue_duration_seconds",
    "How long in seconds an item stays in workqueue before being requested",
    ["name", "controller"],
    buckets=QUEUE_BUCKETS,
)
QUEUE_WORK = Histogram(
    "workqueue_work_duration_seconds",
    "How long in seconds processing an item from workqueue takes",
    ["name", "controller"],
    buckets=QUEUE_BUCKETS,
)
QUEUE_RETRIES = Counter(
    "workqueue_retries_total", "Total number of retries handled by workqueue", ["name", "controller"]
)

WEBHOOK_LATENCY = Histogram(
    "controller_runtime_webhook_latency_seconds",
    "Histogram of the latency of processing admission requests",
    ["webhook"],
    buckets=WEBHOOK_BUCKETS,
)
WEBHOOK_REQUESTS = Counter(
    "controller_runtime_webhook_requests_total",
    "Total number of admission requests by HTTP status code",
    ["webhook", "code"],
)
WEBHOOK_IN_FLIGHT = Gauge(
    "controller_runtime_webhook_requests_in_flight", "Current number of admission requests being served", ["webhook"]
)
LEADER = Gauge("kubelab_leader", "1 while this replica holds the leader Lease, else 0")
