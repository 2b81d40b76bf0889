"""What the driver knows about each volume and snapshot, as JSON beside the data in the pool.

The records live in the pool (``<pool>/.kubelab/``), so they come and go with the data they
describe: a restarted driver, or a new pod of it, reads them back and finds every volume.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from kubelab_kit.files import atomic_write

ID_PATTERN = re.compile(r"^(vol|snap)-([0-9a-f]{24})\.([A-Za-z0-9._-]{1,63})$")


@dataclass
class VolumeRecord:
    id: str
    name: str
    capacity: int
    block: bool
    node: str
    source_snapshot: str = ""
    source_volume: str = ""
    ephemeral: bool = False
    parameters: dict[str, str] = field(default_factory=dict)


@dataclass
class SnapshotRecord:
    id: str
    name: str
    source_volume: str
    size: int
    block: bool
    created: float  # seconds since the epoch
    parameters: dict[str, str] = field(default_factory=dict)


def key(id: str) -> str | None:
    """The file name an ID's data and record have (``vol-<hex>``), or None when the ID is not one of ours."""
    m = ID_PATTERN.match(id)
    return f"{m.group(1)}-{m.group(2)}" if m else None


def node_of(id: str) -> str | None:
    m = ID_PATTERN.match(id)
    return m.group(3) if m else None


T = TypeVar("T", VolumeRecord, SnapshotRecord)


class Records(Generic[T]):
    """One JSON file per record under ``folder``, named by the ID's key."""

    def __init__(self, folder: Path, kind: type[T]) -> None:
        self.folder = folder
        self.kind: type[T] = kind
        folder.mkdir(parents=True, exist_ok=True)

    def _path(self, id: str) -> Path | None:
        k = key(id)
        return self.folder / f"{k}.json" if k else None

    def get(self, id: str) -> T | None:
        path = self._path(id)
        if path is None or not path.is_file():
            return None
        return self.kind(**json.loads(path.read_text()))

    def put(self, record: T) -> None:
        path = self._path(record.id)
        assert path is not None, record.id
        atomic_write(path, json.dumps(asdict(record), indent=1, sort_keys=True) + "\n")

    def remove(self, id: str) -> None:
        path = self._path(id)
        if path is not None:
            path.unlink(missing_ok=True)

    def all(self) -> list[T]:
        """Every record, sorted by ID (the order list calls page through)."""
        found = [self.kind(**json.loads(p.read_text())) for p in sorted(self.folder.glob("*.json"))]
        return sorted(found, key=lambda r: r.id)
