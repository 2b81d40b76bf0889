"""The CDI spec of a node's accelerators: what the container runtime does for each allocated device.

The device plugin names CDI devices in its Allocate answer (``kubelab.dev/accelerator=accel-0``);
the runtime applies the spec's edits (:mod:`kubelab_kit.cdi`). Each of ours adds an environment
variable naming the device's link group and a device node ``/dev/kubelab/<id>``. One spec file
per resource, rewritten when the device list changes, removed when the plugin stops.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubelab_deviceplugin.inventory import Device
from kubelab_kit import cdi
from kubelab_kit.cdi import DEFAULT_DIR, qualified

__all__ = ["DEFAULT_DIR", "device_path", "env_name", "qualified", "remove", "spec", "spec_path", "write"]


def env_name(device_id: str) -> str:
    return "KUBELAB_ACCELERATOR_" + device_id.upper().replace("-", "_").replace(".", "_") + "_LINK"


def device_path(device_id: str) -> str:
    return f"/dev/kubelab/{device_id}"


def _devices(devices: tuple[Device, ...]) -> list[cdi.CdiDevice]:
    return [cdi.CdiDevice(d.id, {env_name(d.id): d.link}, (device_path(d.id),)) for d in devices]


def spec(resource: str, devices: tuple[Device, ...]) -> dict[str, Any]:
    return cdi.spec(resource, _devices(devices))


def spec_path(cdi_dir: Path, resource: str) -> Path:
    return cdi.spec_path(cdi_dir, resource)


def write(cdi_dir: Path, resource: str, devices: tuple[Device, ...]) -> Path:
    return cdi.write(cdi_dir, resource, _devices(devices))


def remove(cdi_dir: Path, resource: str) -> None:
    cdi.remove(cdi_dir, resource)
