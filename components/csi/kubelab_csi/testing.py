"""A driver on a scratch pool, for the driver's tests and csi-sanity (root: it mounts a loop image).

``running_driver(folder)`` formats a sparse image in ``folder``, serves the driver on
``folder/csi.sock`` and, on exit, stops it and takes everything down again: the pool unmounted,
its loop device detached. ``leftovers(folder)`` lists what is still mounted or attached below
``folder``, so a test can prove nothing leaked.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kubelab_csi.config import DriverConfig
from kubelab_csi.driver import server
from kubelab_csi.storage import loop
from kubelab_csi.storage.pool import Pool
from kubelab_kit.grpc import Server
from kubelab_kit.mounts import mount_points, unmount

NODE = "kubelab-test-node"


@dataclass
class Running:
    server: Server
    pool: Pool
    config: DriverConfig
    folder: Path

    @property
    def endpoint(self) -> str:
        return str(self.server.path)

    def leftovers(self, below: Path | None = None) -> list[str]:
        """While serving: volumes and snapshots in the pool, mounts below ``below`` (default: the
        driver's folder) other than the pool itself, raw block files still on a loop device."""
        found = [f"volume {v.id} ({v.name})" for v in self.pool.volume_records.all()]
        found += [f"snapshot {s.id} ({s.name})" for s in self.pool.snapshot_records.all()]
        top = below or self.folder
        found += [f"mount {p}" for p in mount_points() if p.startswith(f"{top}/") and p != str(self.pool.root)]
        for disk in self.pool.volumes_dir.glob("*/disk.img"):
            found += [f"loop {d} -> {disk}" for d in loop.devices_of(disk)]
        return found


@contextlib.contextmanager
def running_driver(
    folder: Path, *, size: int = 4 << 30, node: str = NODE, controller_expansion: bool = True
) -> Iterator[Running]:
    folder.mkdir(parents=True, exist_ok=True)
    image = folder / "pool.img"
    pool = Pool(folder / "pool", image, size)
    config = DriverConfig(node_id=node, controller_expansion=controller_expansion)
    try:
        pool.open()
        with server(folder / "csi.sock", config, pool, max_workers=16) as srv:
            yield Running(srv, pool, config, folder)
    finally:
        for point in reversed(mount_points()):
            if point.startswith(f"{folder}/") and point != str(pool.root):
                unmount(point)
        for disk in pool.volumes_dir.glob("*/disk.img") if pool.volumes_dir.is_dir() else ():
            loop.detach(disk)
        unmount(pool.root)
        if image.exists():
            loop.detach(image)


def leftovers(folder: Path) -> list[str]:
    """Mounts below ``folder`` and loop devices backed by files below it."""
    found = [f"mount {p}" for p in mount_points() if p.startswith(f"{folder}/")]
    for disk in folder.rglob("*.img"):
        found += [f"loop {d} -> {disk}" for d in loop.devices_of(disk)]
    return found
