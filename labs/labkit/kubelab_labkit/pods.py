"""Pods for checkpoints: a manifest pinned to a node, waiting for a phase (with the pod's logs
and events when it does not get there), and a Python snippet run to completion."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube

DONE = frozenset({"Succeeded", "Failed"})


def pod(
    name: str,
    namespace: str,
    image: str,
    command: Sequence[str],
    *,
    node: str | None = None,
    restart: str = "Never",
    labels: Mapping[str, str] | None = None,
    ports: Sequence[Mapping[str, Any]] | None = None,
    service_account: str | None = None,
    node_selector: Mapping[str, str] | None = None,
    pull: str = "IfNotPresent",
) -> dict[str, Any]:
    """A one-container pod running ``command`` (on ``node`` if given; the lab image is on every node)."""
    container: dict[str, Any] = {"name": "main", "image": image, "imagePullPolicy": pull, "command": list(command)}
    if ports:
        container["ports"] = [dict(p) for p in ports]
    spec: dict[str, Any] = {
        "restartPolicy": restart,
        "terminationGracePeriodSeconds": 0,
        "enableServiceLinks": False,
        "containers": [container],
    }
    if node:
        spec["nodeName"] = node
    if service_account:
        spec["serviceAccountName"] = service_account
    if node_selector:
        spec["nodeSelector"] = dict(node_selector)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {"app": name})},
        "spec": spec,
    }


def wait_phase(
    kubectl: Kubectl, namespace: str, name: str, phases: set[str] | frozenset[str], timeout: float = 120
) -> dict[str, Any]:
    """Wait until the pod is in one of ``phases`` (Running also means all containers ready) and return it.

    A pod that fails when Failed is not wanted, or any pod still elsewhere at the deadline,
    raises ``AssertionError`` with its logs and events.
    """
    deadline = time.monotonic() + timeout
    while True:
        obj: dict[str, Any] = kubectl.json("-n", namespace, "get", "pod", name)
        phase = obj["status"].get("phase")
        ready = all(s.get("ready") for s in obj["status"].get("containerStatuses", [{}]))
        if phase in phases and (phase != "Running" or ready):
            return obj
        if (phase == "Failed" and "Failed" not in phases) or time.monotonic() > deadline:
            logs = kubectl.run("-n", namespace, "logs", name, check=False)
            raise AssertionError(
                f"pod {namespace}/{name} is {phase}, wanted {sorted(phases)}\n"
                f"logs:\n{logs[-3000:]}\nevents:\n{kube.events(kubectl, namespace, name)}"
            )
        time.sleep(0.5)


def wait_done(kubectl: Kubectl, namespace: str, name: str, timeout: float = 120) -> tuple[str, str]:
    """Wait until the pod Succeeded or Failed; returns (phase, logs)."""
    obj = wait_phase(kubectl, namespace, name, DONE, timeout)
    return obj["status"]["phase"], kubectl.run("-n", namespace, "logs", name)


def run_to_completion(kubectl: Kubectl, namespace: str, name: str, image: str, node: str, code: str) -> str:
    """Run ``python3 -c code`` in a fresh pod on ``node``; return its output (it must succeed)."""
    kubectl.run("-n", namespace, "delete", "pod", name, "--ignore-not-found", "--wait=true", "--grace-period=0")
    kube.apply(kubectl, pod(name, namespace, image, ["python3", "-c", code], node=node))
    wait_phase(kubectl, namespace, name, {"Succeeded"})
    return kubectl.run("-n", namespace, "logs", name)
