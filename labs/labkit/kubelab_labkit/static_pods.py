"""Swapping a control-plane component (a kubelet static pod) for a lab, and putting it back.

The kubelet runs what ``/etc/kubernetes/manifests/<name>.yaml`` on the node says and restarts the
pod when the file changes. A swap keeps the original beside it first
(``/etc/kubernetes/kubelab-saved/<name>.yaml``, outside the folder the kubelet watches), so the
original survives a lab run that is killed half-way: the next swap puts it back before anything
else, and ``nox -s cluster`` (every lab's first step) finds it there and recreates the cluster.
Files are replaced by rename, so the kubelet never reads half a manifest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from kubelab_cluster.kind.cluster import SWAPPED_ORIGINALS as SAVED
from kubelab_labkit.nodes import node_run, node_sh

MANIFESTS = "/etc/kubernetes/manifests"

Edit = Callable[[dict[str, Any]], None]


def _manifest(name: str) -> str:
    return f"{MANIFESTS}/{name}.yaml"


def _write(node: str, path: str, text: str) -> None:
    staging = f"/etc/kubernetes/.kubelab-{path.rsplit('/', 1)[-1]}.tmp"
    node_run(node, "sh", "-c", f"cat > {staging} && mv {staging} {path}", stdin=text)


def read(node: str, name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(node_run(node, "cat", _manifest(name)))
    return doc


def restore(node: str, name: str) -> bool:
    """Put the saved original back (True), or do nothing when none is saved (False)."""
    saved = f"{SAVED}/{name}.yaml"
    if node_sh(node, f"test -f {saved} && echo yes", check=False).strip() != "yes":
        return False
    node_sh(node, f"cp {saved} /etc/kubernetes/.kubelab-restore.tmp && mv /etc/kubernetes/.kubelab-restore.tmp "
                  f"{_manifest(name)} && rm {saved}")  # fmt: skip
    return True


def swap(node: str, name: str, edit: Edit) -> dict[str, Any]:
    """Save the original (restoring a leftover one first), write ``edit``'s version; returns the new manifest."""
    restore(node, name)
    node_sh(node, f"mkdir -p {SAVED} && cp -p {_manifest(name)} {SAVED}/{name}.yaml")
    doc = read(node, name)
    edit(doc)
    _write(node, _manifest(name), yaml.safe_dump(doc, sort_keys=False))
    return doc


def container(doc: dict[str, Any], name: str) -> dict[str, Any]:
    """The named container of a static pod manifest."""
    for c in doc["spec"]["containers"]:
        if c["name"] == name:
            found: dict[str, Any] = c
            return found
    raise AssertionError(f"no container {name!r} in the manifest of {doc['metadata']['name']}")


def set_flag(command: list[str], flag: str, value: str) -> None:
    """Set ``--flag=value`` in a command line, replacing the flag's earlier value if there is one."""
    prefix = f"--{flag}="
    for i, arg in enumerate(command):
        if arg.startswith(prefix):
            command[i] = prefix + value
            return
    command.append(prefix + value)


def flag_value(command: list[str], flag: str) -> str | None:
    prefix = f"--{flag}="
    return next((arg[len(prefix) :] for arg in command if arg.startswith(prefix)), None)
