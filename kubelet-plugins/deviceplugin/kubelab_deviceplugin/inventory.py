"""A node's simulated accelerators: a JSON file on the node, and what the plugin keeps of it.

The file (default ``/var/lib/kubelab-devices/devices.json``)::

    {"devices": [{"id": "accel-0", "link": "link-0", "healthy": true}, ...]}

``id`` is what the kubelet allocates, ``link`` the device's link group (devices of one group
are meant to be used together; GetPreferredAllocation keeps them together), ``healthy`` whether
the kubelet may hand it out. :func:`seed` writes a first file when there is none;
:func:`set_health` edits one atomically (what ``kubelab-deviceplugin devices health`` does).
:class:`Inventory` holds the last good list and a generation that moves on every change, so
ListAndWatch streams can wait for the next one.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kubelab_kit.errors import KubelabError
from kubelab_kit.files import atomic_write

log = logging.getLogger(__name__)

DEFAULT_FILE = Path("/var/lib/kubelab-devices/devices.json")
ID = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$")
HEALTHY, UNHEALTHY = "Healthy", "Unhealthy"  # the kubelet's words (pluginapi.Healthy, pluginapi.Unhealthy)


class InventoryError(KubelabError):
    area = "deviceplugin"


@dataclass(frozen=True)
class Device:
    id: str
    link: str
    healthy: bool = True

    @property
    def health(self) -> str:
        return HEALTHY if self.healthy else UNHEALTHY


def parse(text: str, source: str = "devices file") -> tuple[Device, ...]:
    """The devices of a file's text; :class:`InventoryError` says what is wrong with it."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InventoryError(
            f"{source} is not JSON: {exc}", fix='write {"devices": [{"id": "accel-0", ...}]}'
        ) from None
    items = doc.get("devices") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise InventoryError(f"{source} has no list 'devices'", fix='write {"devices": [...]}')
    devices: list[Device] = []
    for n, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not ID.match(item["id"]):
            raise InventoryError(
                f"{source}: device {n} has no valid 'id' ({item!r})", fix="ids are DNS labels, e.g. accel-0"
            )
        healthy = item.get("healthy", True)
        if not isinstance(healthy, bool):
            raise InventoryError(f"{source}: device {item['id']}: 'healthy' must be true or false, not {healthy!r}")
        devices.append(Device(item["id"], str(item.get("link", "")), healthy))
    ids = [d.id for d in devices]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise InventoryError(f"{source}: device ids listed twice: {', '.join(twice)}")
    return tuple(devices)


def render(devices: tuple[Device, ...] | list[Device]) -> str:
    return json.dumps({"devices": [asdict(d) for d in devices]}, indent=2) + "\n"


def read(path: Path) -> tuple[Device, ...]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise InventoryError(f"no devices file at {path}", fix="run `kubelab-deviceplugin devices seed`") from None
    return parse(text, str(path))


def seed(path: Path, count: int, link_size: int) -> bool:
    """Write ``count`` healthy devices, ``link_size`` to a link group, unless the file exists; True if written."""
    if path.exists():
        return False
    if count < 0 or link_size < 1:
        raise InventoryError(f"cannot seed {count} devices in link groups of {link_size}")
    devices = [Device(f"accel-{i}", f"link-{i // link_size}") for i in range(count)]
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, render(devices))
    return True


def set_health(path: Path, device_id: str, healthy: bool) -> tuple[Device, ...]:
    """Mark one device (un)healthy in the file; the plugin sees the change on its next look."""
    devices = read(path)
    if device_id not in {d.id for d in devices}:
        raise InventoryError(f"no device {device_id} in {path}: {', '.join(d.id for d in devices)}")
    changed = tuple(Device(d.id, d.link, healthy) if d.id == device_id else d for d in devices)
    atomic_write(path, render(changed))
    return changed


class Inventory:
    """The last good device list of a file, reloaded by :meth:`refresh` when the file changed.

    A file that becomes unreadable or invalid keeps the last good list (and logs why once per
    change); a file that disappears means no devices.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cond = threading.Condition()
        self._devices: tuple[Device, ...] = ()
        self._generation = 0
        self._seen: Any = None

    @property
    def devices(self) -> tuple[Device, ...]:
        with self._cond:
            return self._devices

    def snapshot(self) -> tuple[int, tuple[Device, ...]]:
        with self._cond:
            return self._generation, self._devices

    def get(self, device_id: str) -> Device | None:
        return next((d for d in self.devices if d.id == device_id), None)

    def refresh(self) -> bool:
        """Reload if the file changed since the last look; True when the device list changed."""
        try:
            st = self.path.stat()
            seen: Any = (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            seen = None
        if seen == self._seen:
            return False
        self._seen = seen
        if seen is None:
            log.warning("devices file %s is gone: no devices", self.path)
            return self._publish(())
        try:
            devices = read(self.path)
        except InventoryError as exc:
            log.error("keeping the last good device list: %s", exc)
            return False
        return self._publish(devices)

    def _publish(self, devices: tuple[Device, ...]) -> bool:
        with self._cond:
            if devices == self._devices:
                return False
            self._devices = devices
            self._generation += 1
            self._cond.notify_all()
        log.info("devices: %s", ", ".join(f"{d.id} ({d.link}, {d.health})" for d in devices) or "none")
        return True

    def wait_change(self, generation: int, timeout: float) -> tuple[int, tuple[Device, ...]]:
        """The next (generation, devices) after ``generation``, or the current ones after ``timeout``."""
        with self._cond:
            self._cond.wait_for(lambda: self._generation != generation, timeout)
            return self._generation, self._devices
