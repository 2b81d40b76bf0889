"""A network configuration list run as a runtime runs it (libcni's ``AddNetworkList`` and
``DelNetworkList``), standard library only.

- :func:`load_network` picks the node's network: the first file of the configuration directory
  by name (``*.conflist``, or a single-plugin ``*.conf``/``*.json``), as libcni and containerd do;
- :func:`add` runs the plugins in order, each given the previous one's result as ``prevResult``
  and, if it declares the capability, the runtime's capability arguments (``runtimeConfig``:
  ``portMappings``, ``bandwidth``, ``dns``...); the last result is the network's;
- :func:`delete` runs them in reverse with the result ADD gave (the runtime keeps it), and
  stops at nothing: every plugin gets its DEL, the first error is raised after.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubelab_kit.cni.invoke import CniArgs, find_in_path, invoke
from kubelab_kit.errors import KubelabError

SUFFIXES = (".conflist", ".conf", ".json")


class NetworkConfigError(KubelabError):
    area = "cni"


@dataclass(frozen=True)
class NetworkList:
    name: str
    cni_version: str
    plugins: list[dict[str, Any]]
    source: Path | None = None
    bin_dirs: Sequence[str] = field(default=("/opt/cni/bin",))

    def stdin(self, plugin: Mapping[str, Any], prev: dict[str, Any] | None, capabilities: Mapping[str, Any]) -> bytes:
        conf = {**plugin, "name": self.name, "cniVersion": self.cni_version}
        wanted = {k: v for k, v in capabilities.items() if (plugin.get("capabilities") or {}).get(k)}
        if wanted:
            conf["runtimeConfig"] = wanted
        if prev is not None:
            conf["prevResult"] = prev
        return json.dumps(conf).encode()


def network_file(conf_dir: Path) -> Path:
    """The node's network configuration: the first file of ``conf_dir`` by name with a CNI suffix."""
    try:
        files = sorted(p for p in conf_dir.iterdir() if p.suffix in SUFFIXES and p.is_file())
    except OSError as exc:
        raise NetworkConfigError(f"cannot read the CNI configuration directory {conf_dir}: {exc}") from exc
    if not files:
        raise NetworkConfigError(f"no network configuration in {conf_dir}")
    return files[0]


def load_network(conf_dir: Path, bin_dirs: Sequence[str] = ("/opt/cni/bin",)) -> NetworkList:
    source = network_file(conf_dir)
    try:
        doc = json.loads(source.read_text())
    except (OSError, ValueError) as exc:
        raise NetworkConfigError(f"{source}: not a network configuration: {exc}") from exc
    plugins = doc.get("plugins") if source.suffix == ".conflist" else [doc]
    if not isinstance(plugins, list) or not plugins or not all(isinstance(p, dict) and p.get("type") for p in plugins):
        raise NetworkConfigError(f"{source}: no plugins, or a plugin without a type")
    return NetworkList(str(doc.get("name") or ""), str(doc.get("cniVersion") or "1.0.0"), plugins, source, bin_dirs)


@dataclass(frozen=True)
class Attachment:
    """Who the network is for: what every plugin of the list is told."""

    container_id: str
    netns: str
    ifname: str = "eth0"
    cni_args: CniArgs | None = None
    capabilities: Mapping[str, Any] = field(default_factory=dict)


def _run(net: NetworkList, command: str, plugin: Mapping[str, Any], at: Attachment, prev: dict[str, Any] | None) -> Any:
    binary = find_in_path(str(plugin["type"]), net.bin_dirs)
    return invoke(
        binary,
        command,
        net.stdin(plugin, prev, at.capabilities),
        container_id=at.container_id,
        netns=at.netns,
        ifname=at.ifname,
        cni_args=at.cni_args,
        cni_path=list(net.bin_dirs),
    )


def add(net: NetworkList, at: Attachment) -> dict[str, Any]:
    """ADD through the whole list; the final result. A failing plugin's error is raised (the
    caller then runs :func:`delete` so that the plugins before it undo what they did)."""
    result: dict[str, Any] | None = None
    for plugin in net.plugins:
        result = _run(net, "ADD", plugin, at, result) or result
    return result or {}


def delete(net: NetworkList, at: Attachment, prev: dict[str, Any] | None) -> None:
    first: Exception | None = None
    for plugin in reversed(net.plugins):
        try:
            _run(net, "DEL", plugin, at, prev)
        except Exception as exc:  # every plugin gets its DEL
            first = first or exc
    if first is not None:
        raise first
