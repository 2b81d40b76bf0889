"""CDI (Container Device Interface) spec files: how a kubelet plugin tells the runtime what a device is.

A device plugin or a DRA driver names CDI devices (``vendor/class=name``) in its answer; the
kubelet passes the names to the runtime, and containerd (CDI is on by default in 2.x) finds
them in the spec files of ``/etc/cdi`` and ``/var/run/cdi`` and applies their container edits:
environment variables and device nodes here. A spec file holds one ``kind`` (``vendor/class``);
several files may share a kind as long as their device names differ. Files are written
atomically (the runtime never reads half of one) and removed idempotently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubelab_kit.files import atomic_write

CDI_VERSION = "0.6.0"
DEFAULT_DIR = Path("/var/run/cdi")
HOST_DEVICE = "/dev/null"  # what a simulated device node is backed by: a real character device to open


@dataclass(frozen=True)
class CdiDevice:
    """One device of a spec: its name within the kind, and its container edits."""

    name: str
    env: Mapping[str, str] = field(default_factory=dict)
    device_nodes: tuple[str, ...] = ()  # container paths, each backed by HOST_DEVICE


def qualified(kind: str, name: str) -> str:
    """The fully qualified CDI device name, ``vendor/class=name``."""
    return f"{kind}={name}"


def spec(kind: str, devices: Iterable[CdiDevice]) -> dict[str, Any]:
    return {
        "cdiVersion": CDI_VERSION,
        "kind": kind,
        "devices": [
            {
                "name": d.name,
                "containerEdits": {
                    "env": [f"{k}={v}" for k, v in d.env.items()],
                    "deviceNodes": [{"path": p, "hostPath": HOST_DEVICE, "permissions": "rw"} for p in d.device_nodes],
                },
            }
            for d in devices
        ],
    }


def spec_path(cdi_dir: Path, kind: str, suffix: str = "") -> Path:
    """``<dir>/<vendor>-<class>[-<suffix>].json``."""
    stem = kind.replace("/", "-") + (f"-{suffix}" if suffix else "")
    return cdi_dir / f"{stem}.json"


def write(cdi_dir: Path, kind: str, devices: Iterable[CdiDevice], suffix: str = "") -> Path:
    path = spec_path(cdi_dir, kind, suffix)
    atomic_write(path, json.dumps(spec(kind, devices), indent=2) + "\n")
    return path


def remove(cdi_dir: Path, kind: str, suffix: str = "") -> bool:
    """Remove a spec file; True if there was one."""
    path = spec_path(cdi_dir, kind, suffix)
    existed = path.exists()
    path.unlink(missing_ok=True)
    return existed


def suffixes(cdi_dir: Path, kind: str) -> list[str]:
    """The suffixes of the spec files of ``kind`` in ``cdi_dir`` (what a plugin wrote before a restart)."""
    prefix = kind.replace("/", "-") + "-"
    if not cdi_dir.is_dir():
        return []
    return sorted(p.name[len(prefix) : -len(".json")] for p in cdi_dir.glob(f"{prefix}*.json"))
