"""The plugin driven as a runtime drives it (env + stdin, a subprocess) in private namespaces,
once through the daemon and once in-process."""

from __future__ import annotations

import copy
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from cni_testkit import NOTHING, Plugin, leftovers, needs_netns, nft_rules, reservations

from kubelab_kit.cni import Netns

pytestmark = needs_netns


def pod_state(pod: Netns) -> dict[str, Any]:
    links = {link["ifname"]: link for link in pod.ip_json("-d", "link", "show")}
    addrs = {
        a["ifname"]: [f"{i['local']}/{i['prefixlen']}" for i in a["addr_info"] if i["family"] == "inet"]
        for a in pod.ip_json("addr", "show")
    }
    routes = pod.ip_json("route", "show")
    return {"links": links, "addrs": addrs, "routes": routes}


def test_add_check_del(plugin: Plugin, conf: dict[str, Any], make_pod: Any) -> None:
    pod = make_pod()
    add = plugin("ADD", conf, pod=pod)
    assert add.ok, add.stdout + add.stderr
    doc = add.document
    assert doc["cniVersion"] == "1.1.0"
    bridge, host, container = doc["interfaces"]
    assert bridge["name"] == conf["bridge"]
    assert container == {"name": "eth0", "mac": container["mac"], "sandbox": pod.path}
    [ip] = doc["ips"]
    assert ip["interface"] == 2
    subnet_prefix = conf["ipam"]["ranges"][0][0]["subnet"].rsplit(".", 1)[0]
    assert ip["address"] == f"{subnet_prefix}.2/24" and ip["gateway"] == f"{subnet_prefix}.1"
    assert doc["routes"] == [{"dst": "0.0.0.0/0", "gw": f"{subnet_prefix}.1"}]

    state = pod_state(pod)
    eth0 = state["links"]["eth0"]
    assert eth0["mtu"] == 1400 and eth0["address"] == container["mac"] and "UP" in eth0["flags"]
    assert state["addrs"]["eth0"] == [ip["address"]]
    assert {"dst": "default", "gateway": f"{subnet_prefix}.1"}.items() <= state["routes"][0].items()
    [host_link] = plugin.node.ip_json("-d", "link", "show", host["name"])
    assert host_link["master"] == conf["bridge"] and host_link["mtu"] == 1400
    assert host_link["linkinfo"]["info_slave_data"]["hairpin"] is True
    assert reservations(conf) == [ip["address"].split("/")[0]]

    # the gateway answers from the pod (traffic stays inside the namespaces of this test)
    ping = subprocess.run([*pod.prefix(), "python3", "-c", _PING_GW, ip["gateway"]], capture_output=True, timeout=30)
    assert ping.returncode == 0, ping.stderr

    check_conf = {**conf, "prevResult": doc}
    assert plugin("CHECK", check_conf, pod=pod).ok

    assert plugin("DEL", {**conf, "prevResult": doc}, pod=pod).ok
    assert leftovers(plugin.node, conf) == NOTHING
    assert "eth0" not in pod_state(pod)["links"]
    # DEL is idempotent: again, without the namespace, for an unknown container
    assert plugin("DEL", conf, pod=pod).ok
    pod.delete()
    assert plugin("DEL", conf, pod=pod).ok
    assert plugin("DEL", conf, container_id="never-added", netns="").ok
    assert plugin("DEL", conf, container_id="never-added", netns=None).ok


# An ARP-resolved UDP send to the gateway proves L2+L3 to the bridge without ICMP tools.
_PING_GW = """
import socket, subprocess, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((sys.argv[1], 9))
s.send(b"x")
time.sleep(0.2)
out = open("/proc/net/arp").read()
sys.exit(0 if sys.argv[1] + " " in out and "0x2" in out else 1)
"""


def test_check_detects_removed_ip(plugin: Plugin, conf: dict[str, Any], make_pod: Any) -> None:
    pod = make_pod()
    add = plugin("ADD", conf, pod=pod)
    assert add.ok
    address = add.document["ips"][0]["address"]
    subprocess.run([*pod.prefix(), "ip", "addr", "del", address, "dev", "eth0"], check=True)
    check = plugin("CHECK", {**conf, "prevResult": add.document}, pod=pod)
    assert check.rc != 0
    assert check.document["code"] == 103 and "address missing" in check.document["msg"]
    assert set(check.document) == {"cniVersion", "code", "msg", "details"}
    assert plugin("DEL", conf, pod=pod).ok


def test_status_and_version(plugin: Plugin, conf: dict[str, Any]) -> None:
    status = plugin("STATUS", conf, container_id=None, ifname=None)
    assert status.ok and status.stdout == b""
    version = plugin("VERSION", {"cniVersion": "1.0.0"}, container_id=None, ifname=None)
    assert version.ok
    assert version.document == {
        "cniVersion": "1.0.0",
        "supportedVersions": ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"],
    }


@pytest.mark.parametrize("version", ["0.3.0", "0.3.1", "0.4.0", "1.0.0"])
def test_older_result_versions(node: Netns, bin_dir: Path, conf: dict[str, Any], make_pod: Any, version: str) -> None:
    plugin = Plugin(str(bin_dir / "kubelab-cni"), node, {"KUBELAB_CNI_SOCKET": "/nonexistent"}, "inprocess", "")
    pod = make_pod()
    add = plugin("ADD", {**conf, "cniVersion": version}, pod=pod)
    assert add.ok, add.stdout
    assert add.document["cniVersion"] == version
    ip = add.document["ips"][0]
    assert ("version" in ip) == (version != "1.0.0")
    assert plugin("DEL", {**conf, "cniVersion": version}, pod=pod).ok


def test_ip_masq_rules_follow_the_attachment(plugin: Plugin, conf: dict[str, Any], make_pod: Any) -> None:
    conf = {**conf, "ipMasq": True}
    pods = [make_pod() for _ in range(2)]
    for i, pod in enumerate(pods):
        assert plugin("ADD", conf, pod=pod, container_id=f"m{i}").ok
    tags = nft_rules(plugin.node)
    assert sorted(t.container_id for t in tags) == ["m0", "m1"]
    assert all(t.network == conf["name"] and t.ifname == "eth0" for t in tags)
    assert plugin("DEL", conf, pod=pods[0], container_id="m0").ok
    assert [t.container_id for t in nft_rules(plugin.node)] == ["m1"]
    assert plugin("DEL", conf, pod=pods[1], container_id="m1").ok
    assert leftovers(plugin.node, conf) == NOTHING


def test_twenty_concurrent_adds_get_unique_ips(plugin: Plugin, conf: dict[str, Any], make_pod: Any) -> None:
    conf = {**conf, "ipMasq": True}
    pods = [make_pod() for _ in range(20)]
    with ThreadPoolExecutor(20) as pool:
        adds = list(pool.map(lambda ip: plugin("ADD", conf, pod=ip[1], container_id=f"p{ip[0]}"), enumerate(pods)))
    assert all(a.ok for a in adds), [a.stdout for a in adds if not a.ok]
    addresses = [a.document["ips"][0]["address"] for a in adds]
    assert len(set(addresses)) == 20
    assert len(reservations(conf)) == 20 and len(nft_rules(plugin.node)) == 20
    with ThreadPoolExecutor(20) as pool:
        dels = list(pool.map(lambda ip: plugin("DEL", conf, pod=ip[1], container_id=f"p{ip[0]}"), enumerate(pods)))
    assert all(d.ok for d in dels)
    assert leftovers(plugin.node, conf) == NOTHING


def test_exhausted_range(plugin: Plugin, conf: dict[str, Any], make_pod: Any) -> None:
    subnet = conf["ipam"]["ranges"][0][0]["subnet"]
    base = subnet.rsplit(".", 1)[0]
    conf = copy.deepcopy(conf)
    conf["ipMasq"] = True
    conf["ipam"]["ranges"] = [[{"subnet": subnet, "rangeStart": f"{base}.10", "rangeEnd": f"{base}.11"}]]
    pods = [make_pod() for _ in range(3)]
    assert plugin("ADD", conf, pod=pods[0], container_id="x0").ok
    assert plugin("ADD", conf, pod=pods[1], container_id="x1").ok
    before = leftovers(plugin.node, conf)
    third = plugin("ADD", conf, pod=pods[2], container_id="x2")
    assert third.rc != 0 and third.document["code"] == 102
    assert leftovers(plugin.node, conf) == before
    assert "eth0" not in pod_state(pods[2])["links"]
    status = plugin("STATUS", conf, container_id=None, ifname=None)
    assert status.rc != 0 and status.document["code"] == 50
    for i in range(2):
        assert plugin("DEL", conf, pod=pods[i], container_id=f"x{i}").ok
    assert plugin("STATUS", conf, container_id=None, ifname=None).ok


def test_gc_with_valid_attachments(plugin: Plugin, conf: dict[str, Any], make_pod: Any) -> None:
    conf = {**conf, "ipMasq": True}
    pods = [make_pod() for _ in range(3)]
    for i, pod in enumerate(pods):
        assert plugin("ADD", conf, pod=pod, container_id=f"g{i}").ok
    gc_conf = {**conf, "cni.dev/valid-attachments": [{"containerID": "g1", "ifname": "eth0"}]}
    gc = plugin("GC", gc_conf, container_id=None, ifname=None)
    assert gc.ok, gc.stdout
    left = leftovers(plugin.node, conf)
    assert len(left["reservations"]) == 1 and [t.container_id for t in left["nat_rules"]] == ["g1"]
    assert len(left["veths"]) == 1
    assert "eth0" in pod_state(pods[1])["links"] and "eth0" not in pod_state(pods[0])["links"]
    # GC with nothing valid removes the rest
    assert plugin("GC", {**conf, "cni.dev/valid-attachments": []}, container_id=None, ifname=None).ok
    assert leftovers(plugin.node, conf) == NOTHING


@pytest.mark.parametrize("stage", ["reserve", "veth", "configure", "masquerade"])
@pytest.mark.parametrize("cleanup", ["DEL", "GC"])
def test_killed_mid_add_leaves_nothing_after_cleanup(
    plugin: Plugin, conf: dict[str, Any], make_pod: Any, stage: str, cleanup: str
) -> None:
    conf = {**conf, "ipMasq": True}
    pod = make_pod()
    crashed = plugin("ADD", conf, pod=pod, container_id="k1", extra_env={"KUBELAB_CNI_TEST_CRASH_AFTER": stage})
    assert crashed.rc != 0
    if plugin.mode == "inprocess":
        assert crashed.rc == -9  # the plugin process itself was SIGKILLed
    else:
        assert crashed.document["code"] == 11  # the daemon died under the shim: try again later
        plugin.daemon.proc.wait(timeout=10)  # type: ignore[union-attr]
    assert leftovers(plugin.node, conf) != NOTHING  # the crash did leave something behind
    if cleanup == "DEL":
        # with the daemon dead the shim falls back to in-process work on the stale socket
        assert plugin("DEL", conf, pod=pod, container_id="k1").ok
    else:
        assert plugin("GC", {**conf, "cni.dev/valid-attachments": []}, container_id=None, ifname=None).ok
        pod.delete()  # GC may assume the namespace is gone; the runtime removes it
    assert leftovers(plugin.node, conf) == NOTHING


def test_add_after_crash_reuses_reservation(plugin: Plugin, conf: dict[str, Any], make_pod: Any) -> None:
    pod = make_pod()
    crashed = plugin("ADD", conf, pod=pod, container_id="r1", extra_env={"KUBELAB_CNI_TEST_CRASH_AFTER": "reserve"})
    assert crashed.rc != 0 and len(reservations(conf)) == 1
    again = plugin("ADD", conf, pod=pod, container_id="r1")
    assert again.ok, again.stdout
    assert len(reservations(conf)) == 1
    assert plugin("DEL", conf, pod=pod, container_id="r1").ok


def _bad(plugin: Plugin, stdin: Any, *, code: int, pod: Netns | None, **kw: Any) -> dict[str, Any]:
    call = plugin("ADD", stdin, pod=pod, **kw)
    assert call.rc != 0, call.stdout
    doc = call.document
    assert set(doc) == {"cniVersion", "code", "msg", "details"}, doc
    assert doc["code"] == code, doc
    return doc


def test_bad_input(plugin: Plugin, conf: dict[str, Any], make_pod: Any) -> None:
    conf = {**conf, "ipMasq": True}
    pod = make_pod()
    _bad(plugin, b"{not json", code=6, pod=pod)
    _bad(plugin, b"\xff\xfe", code=6, pod=pod)
    _bad(plugin, {**conf, "cniVersion": "9.9.9"}, code=1, pod=pod)
    _bad(plugin, {**conf, "cniVersion": "0.2.0"}, code=1, pod=pod)
    _bad(plugin, {**conf, "vlan": 100}, code=2, pod=pod)
    _bad(plugin, conf, code=4, pod=pod, extra_env={}, container_id=None)
    _bad(plugin, conf, code=4, pod=None, netns=None)
    _bad(plugin, conf, code=4, pod=pod, container_id="-bad/id")
    missing_command = plugin(None, conf, pod=pod)
    assert missing_command.rc != 0 and missing_command.document["code"] == 4
    bad_subnet = copy.deepcopy(conf)
    bad_subnet["ipam"]["ranges"] = [[{"subnet": "10.99.300.0/24"}]]
    _bad(plugin, bad_subnet, code=7, pod=pod)
    tiny = copy.deepcopy(conf)
    tiny["ipam"]["ranges"] = [[{"subnet": "10.99.0.0/31"}]]
    _bad(plugin, tiny, code=7, pod=pod)
    _bad(plugin, conf, code=3, pod=None, netns="/var/run/netns/kl-does-not-exist")
    # a name clash in the pod: the existing interface stays, nothing else appears
    subprocess.run(
        [*pod.prefix(), "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "clashpeer"], check=True
    )
    doc = _bad(plugin, conf, code=101, pod=pod)
    assert "eth0" in doc["msg"]
    assert pod_state(pod)["links"]["eth0"]["linkinfo"]["info_kind"] == "veth"
    assert leftovers(plugin.node, conf) == NOTHING
    assert json.loads(plugin.calls[0].stdout)["cniVersion"] == "1.1.0"
