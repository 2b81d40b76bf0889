"""Checkpoint 5 (book 4.3): exec probes run through ExecSync: readiness follows a file, a failing
liveness probe gets the container restarted."""

from __future__ import annotations

import time

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube, pods
from kubelab_labkit.waiting import eventually

SCRIPT = "sleep 4; touch /tmp/ready; sleep 8; rm /tmp/alive; exec sleep 3600"


def test_05_exec_probes(kubectl: Kubectl, cri_node: str, namespace: str, busybox: str) -> None:
    """Not Ready until /tmp/ready exists (readiness `test -f /tmp/ready`), then restarted once
    /tmp/alive is gone (liveness `test -f /tmp/alive`): restartCount 1, the kubelet's event.

    Hint (4.3): ExecSync runs `runc exec` with the container's process spec and the probe's
    command, returning its exit code (kubelab_cri/runtime/containers.py, exec_sync).
    """
    pod = pods.pod(
        "probed", namespace, busybox, ["sh", "-c", "touch /tmp/alive; " + SCRIPT], node=cri_node, restart="Always"
    )
    container = pod["spec"]["containers"][0]
    container["readinessProbe"] = {"exec": {"command": ["test", "-f", "/tmp/ready"]}, "periodSeconds": 1}
    container["livenessProbe"] = {
        "exec": {"command": ["test", "-f", "/tmp/alive"]},
        "periodSeconds": 1,
        "failureThreshold": 2,
    }
    kube.apply(kubectl, pod)
    pods.wait_phase(kubectl, namespace, "probed", {"Running", "Pending"}, timeout=120)

    def status() -> dict[str, object]:
        return kubectl.json("-n", namespace, "get", "pod", "probed")["status"]["containerStatuses"][0]  # type: ignore[no-any-return]

    eventually(lambda: status().get("state", {}).get("running"), timeout=120, what="probed running")  # type: ignore[attr-defined]
    time.sleep(1.5)
    assert not status()["ready"], "Ready before /tmp/ready exists"
    eventually(lambda: status()["ready"], timeout=20, what="Ready once /tmp/ready exists")
    eventually(lambda: int(status().get("restartCount", 0)) >= 1, timeout=40, what="a restart after liveness fails")  # type: ignore[call-overload]
    assert "Liveness probe failed" in kube.events(kubectl, namespace, "probed")
