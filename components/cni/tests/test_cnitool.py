"""Through cnitool (libcni: configuration lists, chaining, prevResult, the result cache), and side by
side with the reference bridge + host-local plugins."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cni_testkit import NOTHING, leftovers, needs_netns, reference_dir

from kubelab_kit.cni import Netns

pytestmark = needs_netns


def cnitool_run(
    cnitool: str, node: Netns, conf_dir: Path, bin_dir: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CNI_PATH": str(bin_dir), "NETCONFPATH": str(conf_dir), "KUBELAB_CNI_SOCKET": "/nonexistent"}
    return subprocess.run([*node.prefix(), cnitool, *args], env=env, capture_output=True, text=True, timeout=120)


def write_conflist(conf_dir: Path, conf: dict[str, Any], plugins: list[dict[str, Any]]) -> str:
    conf_dir.mkdir(exist_ok=True)
    body = {"cniVersion": conf["cniVersion"], "name": conf["name"], "plugins": plugins}
    (conf_dir / f"{conf['name']}.conflist").write_text(json.dumps(body))
    return str(conf["name"])


def plugin_entry(conf: dict[str, Any], type_: str) -> dict[str, Any]:
    entry = {k: v for k, v in conf.items() if k not in ("cniVersion", "name")}
    entry["type"] = type_
    return entry


def test_cnitool_chain_add_check_del(
    cnitool: str, node: Netns, make_pod: Any, bin_dir: Path, conf: dict[str, Any], tmp_path: Path
) -> None:
    if not (bin_dir / "tuning").exists():
        pytest.skip("reference plugins not built (nox -s toolchain)")
    chained = {"type": "tuning", "sysctl": {"net.ipv4.conf.eth0.arp_notify": "1"}}
    name = write_conflist(tmp_path / "net.d", conf, [plugin_entry(conf, "kubelab-cni"), chained])
    pod = make_pod()
    add = cnitool_run(cnitool, node, tmp_path / "net.d", bin_dir, "add", name, pod.path)
    assert add.returncode == 0, add.stderr + add.stdout
    result = json.loads(add.stdout)
    assert [i["name"] for i in result["interfaces"]][2] == "eth0"  # the chained plugin kept our result
    arp_notify = subprocess.run(
        [*pod.prefix(), "cat", "/proc/sys/net/ipv4/conf/eth0/arp_notify"], capture_output=True, text=True
    )
    assert arp_notify.stdout.strip() == "1"
    check = cnitool_run(cnitool, node, tmp_path / "net.d", bin_dir, "check", name, pod.path)
    assert check.returncode == 0, check.stderr + check.stdout
    delete = cnitool_run(cnitool, node, tmp_path / "net.d", bin_dir, "del", name, pod.path)
    assert delete.returncode == 0, delete.stderr + delete.stdout
    assert leftovers(node, conf) == NOTHING


def _shape(doc: Any) -> Any:
    """The structure of a result with values that differ by run (MACs, names, addresses) masked."""
    if isinstance(doc, dict):
        return {k: _shape(v) for k, v in sorted(doc.items())}
    if isinstance(doc, list):
        return [_shape(v) for v in doc]
    if isinstance(doc, str):
        if re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", doc):
            return "<mac>"
        if re.fullmatch(r"veth[0-9a-f]+", doc) or doc.startswith("/var/run/netns/"):
            return "<name>"
        if re.fullmatch(r"10\.99\.\d+\.(\d+)(/\d+)?", doc):
            return re.sub(r"10\.99\.\d+\.", "10.99.X.", doc)
        if doc.startswith("kl"):
            return "<bridge>"
    return doc


@pytest.mark.parametrize("version", ["1.1.0", "1.0.0", "0.4.0"])
def test_same_result_structure_as_reference(
    node: Netns, make_pod: Any, bin_dir: Path, conf: dict[str, Any], tmp_path: Path, cnitool: str, version: str
) -> None:
    if reference_dir() is None:
        pytest.skip("reference plugins not built (nox -s toolchain)")
    results = {}
    for type_ in ("bridge", "kubelab-cni"):
        c = copy.deepcopy(conf)
        c["cniVersion"] = version
        c["dns"] = {"nameservers": ["10.96.0.10"], "search": ["svc.cluster.local"]}
        c["ipam"]["dataDir"] = str(tmp_path / f"ipam-{type_}")
        conf_dir = tmp_path / f"net-{type_}"
        name = write_conflist(conf_dir, c, [plugin_entry(c, type_)])
        pod = make_pod()
        add = cnitool_run(cnitool, node, conf_dir, bin_dir, "add", name, pod.path)
        assert add.returncode == 0, add.stderr + add.stdout
        results[type_] = json.loads(add.stdout)
        delete = cnitool_run(cnitool, node, conf_dir, bin_dir, "del", name, pod.path)
        assert delete.returncode == 0, delete.stderr
        subprocess.run([*node.prefix(), "ip", "link", "del", c["bridge"]], check=True)
    assert _shape(results["kubelab-cni"]) == _shape(results["bridge"])


def test_same_errors_as_reference_for_a_name_clash(
    node: Netns, make_pod: Any, bin_dir: Path, conf: dict[str, Any]
) -> None:
    if reference_dir() is None:
        pytest.skip("reference plugins not built (nox -s toolchain)")
    from cni_testkit import Plugin

    pod = make_pod()
    subprocess.run([*pod.prefix(), "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "p0"], check=True)
    codes = {}
    for type_ in ("bridge", "kubelab-cni"):
        plugin = Plugin(str(bin_dir / type_), node, {"CNI_PATH": str(bin_dir), "KUBELAB_CNI_SOCKET": "/x"}, "", "")
        call = plugin("ADD", {**conf, "type": type_}, pod=pod)
        assert call.rc != 0
        codes[type_] = call.document["code"]
    # both refuse; the reference uses its catch-all 999, this plugin its own 101
    assert codes == {"bridge": 999, "kubelab-cni": 101}
    assert leftovers(node, conf)["reservations"] == []
