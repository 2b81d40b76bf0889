"""The CDI spec of a node's accelerators: what the container runtime does for each allocated device.

The device plugin names CDI devices in its Allocate answer (``kubelab.dev/accelerator=accel-0``);
the kubelet passes the names to the runtime, and containerd (CDI is on by default in 2.x) looks
them up in the spec files of ``/etc/cdi`` and ``/var/run/cdi`` and applies their container
edits. Each of ours adds an environment variable naming the device's link group and a device
node ``/dev/kubelab/<id>`` (the host's ``/dev/null``: a real character device the container
can open). One spec file per resource, rewritten when the device list changes, removed when
the plugin stops.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kubelab_deviceplugin.inventory import Device
from kubelab_kit.files import atomic_write

CDI_VERSION = "0.6.0"
DEFAULT_DIR = Path("/var/run/cdi")
HOST_DEVICE = "/dev/null"


def qualified(resource: str, device_id: str) -> str:
    """The fully qualified CDI device name, ``vendor/class=name``."""
    return f"{resource}={device_id}"


def env_name(device_id: str) -> str:
    return "KUBELAB_ACCELERATOR_" + device_id.upper().replace("-", "_").replace(".", "_") + "_LINK"


def device_path(device_id: str) -> str:
    return f"/dev/kubelab/{device_id}"


def spec(resource: str, devices: tuple[Device, ...]) -> dict[str, Any]:
    return {
        "cdiVersion": CDI_VERSION,
        "kind": resource,
        "devices": [
            {
                "name": d.id,
                "containerEdits": {
                    "env": [f"{env_name(d.id)}={d.link}"],
                    "deviceNodes": [{"path": device_path(d.id), "hostPath": HOST_DEVICE, "permissions": "rw"}],
                },
            }
            for d in devices
        ],
    }


def spec_path(cdi_dir: Path, resource: str) -> Path:
    return cdi_dir / (resource.replace("/", "-") + ".json")


def write(cdi_dir: Path, resource: str, devices: tuple[Device, ...]) -> Path:
    path = spec_path(cdi_dir, resource)
    atomic_write(path, json.dumps(spec(resource, devices), indent=2) + "\n")
    return path


def remove(cdi_dir: Path, resource: str) -> None:
    spec_path(cdi_dir, resource).unlink(missing_ok=True)
