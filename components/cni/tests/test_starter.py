"""The CNI lab's starter (labs/cni/starter/student_cni) is a valid starting point: it speaks the
exec protocol (VERSION) and fails ADD with a clear CNI error, not a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

STARTER = Path(__file__).resolve().parents[3] / "labs" / "cni" / "starter"


def _run(command: str, stdin: dict[str, object]) -> subprocess.CompletedProcess[bytes]:
    env = {
        "CNI_COMMAND": command,
        "CNI_CONTAINERID": "starter-test",
        "CNI_NETNS": "/var/run/netns/none",
        "CNI_IFNAME": "eth0",
        "CNI_PATH": "/opt/cni/bin",
        "PYTHONPATH": str(STARTER),
    }
    return subprocess.run(
        [sys.executable, "-m", "student_cni"], input=json.dumps(stdin).encode(), env=env, capture_output=True
    )


CONF = {
    "cniVersion": "1.0.0",
    "name": "kubelab",
    "type": "kubelab-student",
    "bridge": "kubelab0",
    "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.1.0/24"}]]},
}


def test_starter_answers_version() -> None:
    proc = _run("VERSION", {"cniVersion": "1.0.0"})
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["cniVersion"] == "1.0.0"
    assert "1.0.0" in doc["supportedVersions"]


def test_starter_add_is_a_clear_not_implemented_error() -> None:
    proc = _run("ADD", CONF)
    assert proc.returncode != 0
    assert b"Traceback" not in proc.stderr, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["code"] == 100
    assert doc["msg"] == "not implemented: ADD"
    assert set(doc) == {"cniVersion", "code", "msg", "details"}
