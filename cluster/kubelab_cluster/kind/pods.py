"""Pods for checkpoints: a manifest pinned to a node, apply, wait for a phase (with the
logs and events when it fails), and run a Python snippet to completion."""

from __future__ import annotations

import json
import time
from typing import Any

from kubelab_cluster.kind.kubectl import Kubectl


def pod_manifest(
    name: str,
    namespace: str,
    image: str,
    node: str,
    command: list[str],
    *,
    restart: str = "Never",
    labels: dict[str, str] | None = None,
    ports: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A pod on ``node`` (the lab image is already on every node: imagePullPolicy Never)."""
    container: dict[str, Any] = {"name": "main", "image": image, "imagePullPolicy": "Never", "command": command}
    if ports:
        container["ports"] = ports
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {"app": name}},
        "spec": {
            "nodeName": node,
            "restartPolicy": restart,
            "terminationGracePeriodSeconds": 0,
            "enableServiceLinks": False,
            "containers": [container],
        },
    }


def apply(kubectl: Kubectl, *objs: dict[str, Any]) -> None:
    kubectl.run("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objs)}))


def wait_phase(kubectl: Kubectl, namespace: str, name: str, phases: set[str], timeout: float = 90) -> dict[str, Any]:
    """Wait until the pod reaches one of ``phases`` (Running also means ready); on failure
    or timeout, raise with its logs and events."""
    deadline = time.monotonic() + timeout
    while True:
        obj: dict[str, Any] = kubectl.json("-n", namespace, "get", "pod", name)
        phase = obj["status"].get("phase")
        ready = all(s.get("ready") for s in obj["status"].get("containerStatuses", [{}]))
        if phase in phases and (phase != "Running" or ready):
            return obj
        if phase == "Failed" or time.monotonic() > deadline:
            logs = kubectl.run("-n", namespace, "logs", name, check=False)
            events = kubectl.run(
                "-n", namespace, "get", "events", "--field-selector", f"involvedObject.name={name}", check=False
            )
            raise AssertionError(f"pod {name} is {phase}, wanted {phases}\nlogs:\n{logs}\nevents:\n{events}")
        time.sleep(0.5)


def run_to_completion(kubectl: Kubectl, namespace: str, name: str, image: str, node: str, code: str) -> str:
    """Run ``python3 -c code`` in a fresh pod on ``node``; return its output."""
    kubectl.run("-n", namespace, "delete", "pod", name, "--ignore-not-found", "--wait=true", "--grace-period=0")
    apply(kubectl, pod_manifest(name, namespace, image, node, ["python3", "-c", code]))
    wait_phase(kubectl, namespace, name, {"Succeeded"})
    return kubectl.run("-n", namespace, "logs", name)
