"""The CNI lab's starter (labs/cni/starter/student_cni) is a valid starting point: it speaks the
exec protocol (VERSION, the spec's refusals) and fails ADD with a clear CNI error, not a traceback;
its allocator (ipam.py) is a TODO too, and says so the same way."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

STARTER = Path(__file__).resolve().parents[3] / "labs" / "cni" / "starter"


def _run(command: str, stdin: dict[str, object], attachment: bool = True) -> subprocess.CompletedProcess[bytes]:
    env = {"CNI_COMMAND": command, "CNI_PATH": "/opt/cni/bin", "PYTHONPATH": str(STARTER)}
    if attachment:
        env |= {"CNI_CONTAINERID": "starter-test", "CNI_NETNS": "/var/run/netns/none", "CNI_IFNAME": "eth0"}
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
    assert {"1.0.0", "1.1.0"} <= set(doc["supportedVersions"])  # 1.1.0: the lab's by-hand STATUS and GC


def test_starter_add_is_a_clear_not_implemented_error() -> None:
    proc = _run("ADD", CONF)
    assert proc.returncode != 0
    assert b"Traceback" not in proc.stderr, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["code"] == 100
    assert doc["msg"] == "not implemented: ADD"
    assert set(doc) == {"cniVersion", "code", "msg", "details"}


def test_starter_refuses_as_the_spec_says() -> None:
    for conf, code in (({**CONF, "cniVersion": "9.9.9"}, 1), ({**CONF, "ipam": "not an object"}, 7)):
        proc = _run("ADD", conf)
        assert proc.returncode == 1 and json.loads(proc.stdout)["code"] == code, proc.stdout
    status = _run("STATUS", CONF, attachment=False)  # STATUS and GC need no CNI_CONTAINERID: a TODO, not code 4
    assert json.loads(status.stdout)["msg"] == "not implemented: STATUS", status.stdout


def test_starter_allocator_is_a_todo(tmp_path: Path) -> None:
    sys.path.insert(0, str(STARTER))
    try:
        from student_cni import ipam
        from student_cni.errors import CniError
    finally:
        sys.path.remove(str(STARTER))
    conf = {**CONF, "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.1.0/24"}]], "dataDir": str(tmp_path)}}
    assert ipam.store_dir(conf) == tmp_path / "kubelab"
    rng = ipam.Range.from_conf(conf)
    assert (str(rng.gateway), str(rng.start), str(rng.end)) == ("10.244.1.1", "10.244.1.1", "10.244.1.254")
    with pytest.raises(CniError, match=r"not implemented: ipam\.allocate") as caught:
        ipam.allocate(conf, "c", "eth0")
    assert caught.value.code == 100 and "student_cni/ipam.py" in caught.value.details
    with pytest.raises(CniError, match=r"not implemented: ipam\.release"):
        ipam.release(conf, "c", "eth0")
