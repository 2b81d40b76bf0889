"""Protocol, configuration and result conversion: no namespaces needed."""

from __future__ import annotations

import json
import pickle

import pytest

from kubelab_cni import config
from kubelab_cni.commands import run
from kubelab_cni.protocol import CniError, Code, Invocation, Outcome, parse_cni_args
from kubelab_cni.result import convert
from kubelab_kit.errors import KubelabError


def _doc(outcome_stdout: bytes) -> dict[str, object]:
    doc: dict[str, object] = json.loads(outcome_stdout)
    return doc


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({}, "CNI_COMMAND"),
        ({"CNI_COMMAND": "FROB"}, "CNI_COMMAND"),
        ({"CNI_COMMAND": "ADD", "CNI_NETNS": "/x", "CNI_IFNAME": "eth0"}, "CNI_CONTAINERID"),
        ({"CNI_COMMAND": "ADD", "CNI_CONTAINERID": "a", "CNI_IFNAME": "eth0"}, "CNI_NETNS"),
        ({"CNI_COMMAND": "DEL", "CNI_CONTAINERID": "a"}, "CNI_IFNAME"),
        ({"CNI_COMMAND": "ADD", "CNI_CONTAINERID": "_a", "CNI_NETNS": "/x", "CNI_IFNAME": "e"}, "CNI_CONTAINERID"),
        ({"CNI_COMMAND": "ADD", "CNI_CONTAINERID": "a", "CNI_NETNS": "/x", "CNI_IFNAME": "a/b"}, "CNI_IFNAME"),
        ({"CNI_COMMAND": "VERSION", "CNI_ARGS": "novalue"}, "CNI_ARGS"),
    ],
)
def test_invalid_environment_is_code_4(env: dict[str, str], needle: str) -> None:
    outcome = run(env, b"{}")
    assert outcome.rc == 1
    doc = _doc(outcome.stdout)
    assert doc["code"] == 4 and needle in str(doc["msg"])
    assert set(doc) == {"cniVersion", "code", "msg", "details"}


def test_del_needs_no_netns_and_version_needs_nothing() -> None:
    assert Invocation.from_env({"CNI_COMMAND": "DEL", "CNI_CONTAINERID": "a", "CNI_IFNAME": "eth0"}).netns == ""
    assert Invocation.from_env({"CNI_COMMAND": "VERSION"}).command == "VERSION"
    assert parse_cni_args("A=1;B=x=y;") == {"A": "1", "B": "x=y"}


BASE = {
    "cniVersion": "1.1.0",
    "name": "n",
    "type": "kubelab-cni",
    "ipam": {"type": "host-local", "subnet": "10.99.0.0/24"},
}


@pytest.mark.parametrize(
    ("stdin", "code"),
    [
        (b"", 6),
        (b"[1]", 6),
        (b'{"cniVersion": 1}', 6),
        (json.dumps({**BASE, "cniVersion": "2.0.0"}).encode(), 1),
        (json.dumps({**BASE, "cniVersion": "0.2.0"}).encode(), 1),
        (json.dumps({**BASE, "cniVersion": "x"}).encode(), 6),
        (json.dumps({**BASE, "macspoofchk": True}).encode(), 2),
        (json.dumps({**BASE, "ipMasqBackend": "iptables"}).encode(), 2),
        (json.dumps({**BASE, "ipam": {"type": "dhcp"}}).encode(), 2),
        (json.dumps({**BASE, "name": "a/b"}).encode(), 7),
        (json.dumps({**BASE, "mtu": 20}).encode(), 7),
        (json.dumps({**BASE, "bridge": "x" * 16}).encode(), 7),
        (json.dumps({**BASE, "ipam": {"type": "host-local", "subnet": "10.99.0.0/33"}}).encode(), 7),
    ],
)
def test_config_errors(stdin: bytes, code: int) -> None:
    with pytest.raises(CniError) as err:
        config.load(stdin)
    assert err.value.code == code
    if code == 2:
        assert "=" in err.value.msg  # the message names the key and the value


def test_unsupported_version_error_document_through_run() -> None:
    env = {"CNI_COMMAND": "STATUS"}
    outcome = run(env, json.dumps({**BASE, "cniVersion": "3.0.0"}).encode())
    doc = _doc(outcome.stdout)
    assert outcome.rc == 1 and doc["code"] == 1 and doc["cniVersion"] == "1.1.0"


def test_version_command() -> None:
    outcome = run({"CNI_COMMAND": "VERSION"}, b'{"cniVersion": "0.4.0"}')
    assert outcome.rc == 0
    assert _doc(outcome.stdout) == {
        "cniVersion": "0.4.0",
        "supportedVersions": ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"],
    }


def test_result_conversion() -> None:
    doc = {
        "cniVersion": "1.1.0",
        "interfaces": [{"name": "eth0", "mac": "aa:bb:cc:dd:ee:ff", "mtu": 1400, "sandbox": "/n"}],
        "ips": [{"address": "10.99.0.2/24", "gateway": "10.99.0.1", "interface": 0}, {"address": "fd00::2/64"}],
        "routes": [{"dst": "0.0.0.0/0", "gw": "10.99.0.1", "mtu": 1300}],
    }
    old = convert(doc, "0.4.0")
    assert [ip["version"] for ip in old["ips"]] == ["4", "6"]
    assert "mtu" not in old["interfaces"][0] and "mtu" not in old["routes"][0]
    assert "version" not in convert(doc, "1.0.0")["ips"][0]
    assert convert(doc, "1.1.0")["interfaces"][0]["mtu"] == 1400


def test_the_error_output_is_the_specs_document_byte_for_byte() -> None:
    outcome = Outcome.failure(CniError(Code.INVALID_CONFIG, "invalid config", "mtu 20 < 68"), "1.0.0")
    assert outcome.rc == 1
    assert outcome.stdout == (
        b'{\n  "cniVersion": "1.0.0",\n  "code": 7,\n  "msg": "invalid config",\n  "details": "mtu 20 < 68"\n}\n'
    )
    assert outcome.stderr == b"kubelab-cni: error 7: invalid config: mtu 20 < 68\n"
    bare = Outcome.failure(CniError(Code.UNKNOWN_CONTAINER, "no netns"))
    assert json.loads(bare.stdout) == {"cniVersion": "1.1.0", "code": 3, "msg": "no netns", "details": ""}
    assert bare.stderr == b"kubelab-cni: error 3: no netns\n"


def test_cni_error_is_a_kubelab_error() -> None:
    err = CniError(Code.RANGE_EXHAUSTED, "no free IP addresses", "range set 0", fix="widen the range")
    assert isinstance(err, KubelabError) and err.area == "cni" and err.code == 102 and type(err.code) is int
    assert str(err) == "cni: error 102: no free IP addresses\n  details: range set 0\n  fix: widen the range"
    long = CniError(Code.INTERNAL, "internal error", "Traceback:\n  x\nValueError")
    assert str(long) == "cni: error 100: internal error\n  details:\n    Traceback:\n      x\n    ValueError"
    again = pickle.loads(pickle.dumps(err))  # multiprocessing moves errors between processes
    assert (again.code, again.msg, again.details, again.fix) == (102, err.msg, err.details, err.fix)
    assert str(again) == str(err)
