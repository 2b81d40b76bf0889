"""A node's simulated accelerators for DRA: a JSON file on the node, read once when the driver starts.

The file (default ``/var/lib/kubelab-dra/devices.json``)::

    {"devices": [{"name": "accel-0", "model": "lab-small", "link": "link-0", "memory": "8Gi"}, ...]}

``name`` is the device's name in the node's ResourceSlice (a DNS label), ``model`` and ``link``
become string attributes (with ``index``, the device's number, an int), ``memory`` its capacity
(a Kubernetes quantity). :func:`seed` writes a first file when there is none: devices cycle
through the models given, ``link_size`` to a link group.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from kubelab_kit.errors import KubelabError
from kubelab_kit.files import atomic_write

DEFAULT_FILE = Path("/var/lib/kubelab-dra/devices.json")
NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$")
MEMORY = {"lab-small": "8Gi", "lab-large": "16Gi"}  # what seeded devices of each model hold


class DevicesError(KubelabError):
    area = "dra"


@dataclass(frozen=True)
class Device:
    name: str
    model: str
    link: str
    memory: str

    @property
    def index(self) -> int:
        digits = re.findall(r"\d+", self.name)
        return int(digits[-1]) if digits else 0


def parse(text: str, source: str = "devices file") -> tuple[Device, ...]:
    """The devices of a file's text; :class:`DevicesError` says what is wrong with it."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DevicesError(
            f"{source} is not JSON: {exc}", fix='write {"devices": [{"name": "accel-0", ...}]}'
        ) from None
    items = doc.get("devices") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise DevicesError(f"{source} has no list 'devices'", fix='write {"devices": [...]}')
    devices = []
    for n, item in enumerate(items):
        if not isinstance(item, dict) or not NAME.match(str(item.get("name", ""))):
            raise DevicesError(f"{source}: device {n} has no valid 'name' ({item!r})", fix="names are DNS labels")
        memory = str(item.get("memory", "0"))
        if not QUANTITY.match(memory):
            raise DevicesError(f"{source}: device {item['name']}: memory {memory!r} is not a quantity (8Gi)")
        devices.append(Device(item["name"], str(item.get("model", "")), str(item.get("link", "")), memory))
    names = [d.name for d in devices]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise DevicesError(f"{source}: device names listed twice: {', '.join(twice)}")
    return tuple(devices)


def read(path: Path) -> tuple[Device, ...]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise DevicesError(f"no devices file at {path}", fix="run `kubelab-dra devices seed`") from None
    return parse(text, str(path))


def seed(path: Path, count: int, models: list[str], link_size: int) -> bool:
    """Write ``count`` devices cycling through ``models``, unless the file exists; True if written."""
    if path.exists():
        return False
    if count < 0 or link_size < 1 or not models:
        raise DevicesError(f"cannot seed {count} devices of models {models} in link groups of {link_size}")
    devices = [
        Device(
            f"accel-{i}", models[i % len(models)], f"link-{i // link_size}", MEMORY.get(models[i % len(models)], "4Gi")
        )
        for i in range(count)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps({"devices": [asdict(d) for d in devices]}, indent=2) + "\n")
    return True
