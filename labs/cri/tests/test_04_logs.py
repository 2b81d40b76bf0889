"""Checkpoint 4 (book 4.3): `kubectl logs`, `-f` and `--previous` read the CRI log files the runtime writes."""

from __future__ import annotations

import subprocess
import time

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube, pods
from kubelab_labkit.waiting import eventually

TALKER = "i=0; while true; do echo line $i; echo err $i >&2; i=$((i+1)); sleep 0.3; done"
# exits 3 once (an emptyDir remembers), then runs on: its previous container stays the one to read
CRASHER = "[ -f /state/ran ] && exec sleep 3600; touch /state/ran; echo run $(cat /proc/sys/kernel/random/uuid); exit 3"


def test_04_logs_follow_and_previous(kubectl: Kubectl, cri_node: str, namespace: str, busybox: str) -> None:
    """A pod's stdout and stderr in `kubectl logs`; `-f` streams lines as they are written; a
    container that exits 3 and restarts shows its last run with `--previous` and exit code 3.

    Hint (4.3): the kubelet reads /var/log/pods/NS_POD_UID/CONTAINER/N.log itself: each line
    `<RFC 3339 nano time> stdout|stderr F|P <text>` (kubelab_cri/runtime/crilog.py, written by the shim).
    """
    crasher = pods.pod("crasher", namespace, busybox, ["sh", "-c", CRASHER], node=cri_node, restart="Always")
    crasher["spec"]["volumes"] = [{"name": "state", "emptyDir": {}}]
    crasher["spec"]["containers"][0]["volumeMounts"] = [{"name": "state", "mountPath": "/state"}]
    kube.apply(
        kubectl, pods.pod("talker", namespace, busybox, ["sh", "-c", TALKER], node=cri_node, restart="Always"), crasher
    )
    pods.wait_phase(kubectl, namespace, "talker", {"Running"}, timeout=120)
    logs = eventually(
        lambda: (out := kubectl.run("-n", namespace, "logs", "talker")) and "line 3" in out and out,
        timeout=30,
        what="four lines in the log",
    )
    assert "line 0\n" in logs and "err 0\n" in logs
    follow = subprocess.Popen(
        [
            str(kubectl.binary),
            "--kubeconfig",
            str(kubectl.kubeconfig),
            "-n",
            namespace,
            "logs",
            "-f",
            "--tail=1",
            "talker",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert follow.stdout is not None
        started = time.monotonic()
        numbers = []
        while len(numbers) < 6 and time.monotonic() - started < 30:
            line = follow.stdout.readline().split()
            if len(line) == 2 and line[0] == "line":
                numbers.append(int(line[1]))
        assert len(numbers) == 6 and numbers == sorted(numbers), numbers
        assert time.monotonic() - started >= 1.0, "the lines came while following, not all at once"
    finally:
        follow.kill()
        follow.wait()

    def restarted() -> dict[str, object]:
        status = kubectl.json("-n", namespace, "get", "pod", "crasher")["status"]["containerStatuses"][0]
        assert status.get("restartCount", 0) >= 1 and "terminated" in status.get("lastState", {}), status
        return status  # type: ignore[no-any-return]

    status = eventually(restarted, timeout=90, what="crasher restarted")
    assert status["lastState"]["terminated"]["exitCode"] == 3  # type: ignore[index]
    previous = kubectl.run("-n", namespace, "logs", "crasher", "--previous")
    assert previous.startswith("run ") and len(previous.split()) == 2, previous
