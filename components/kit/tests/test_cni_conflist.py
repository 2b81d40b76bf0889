"""The network list loader and what each plugin of a list is told (no plugin is run here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubelab_kit.cni.conflist import NetworkConfigError, load_network


def test_the_first_file_by_name_is_the_network(tmp_path: Path) -> None:
    (tmp_path / "20-b.conflist").write_text(
        json.dumps({"cniVersion": "1.0.0", "name": "b", "plugins": [{"type": "x"}]})
    )
    (tmp_path / "10-a.conf").write_text(json.dumps({"cniVersion": "0.4.0", "name": "a", "type": "bridge"}))
    (tmp_path / "00-notes.txt").write_text("ignored")
    net = load_network(tmp_path)
    assert (net.name, net.cni_version, [p["type"] for p in net.plugins]) == ("a", "0.4.0", ["bridge"])


def test_capabilities_go_only_to_plugins_that_declare_them(tmp_path: Path) -> None:
    plugins = [{"type": "ptp"}, {"type": "portmap", "capabilities": {"portMappings": True}}]
    (tmp_path / "10.conflist").write_text(json.dumps({"cniVersion": "1.0.0", "name": "n", "plugins": plugins}))
    net = load_network(tmp_path)
    caps = {"portMappings": [{"hostPort": 80, "containerPort": 8080, "protocol": "tcp"}]}
    first = json.loads(net.stdin(net.plugins[0], None, caps))
    second = json.loads(net.stdin(net.plugins[1], {"cniVersion": "1.0.0", "ips": []}, caps))
    assert "runtimeConfig" not in first and "prevResult" not in first
    assert second["runtimeConfig"] == caps and second["prevResult"]["ips"] == [] and second["name"] == "n"


@pytest.mark.parametrize(
    ("files", "says"),
    [
        ({}, "no network configuration"),
        ({"10.conflist": "{not json"}, "not a network configuration"),
        ({"10.conflist": json.dumps({"name": "n", "plugins": [{}]})}, "a plugin without a type"),
    ],
)
def test_bad_configuration_is_refused_with_the_reason(tmp_path: Path, files: dict[str, str], says: str) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(NetworkConfigError, match=says):
        load_network(tmp_path)
