"""The DRA driver's record of prepared claims, kept in one file so a restarted driver loses none.

``/var/lib/kubelab-dra/checkpoint.json``: ``{"claims": {UID: {"namespace", "name", "devices":
[{"request", "pool", "device", "cdi"}]}}}``, written to a temporary file and renamed, so a crash
leaves the old or the new record, never half of one. NodePrepareResources adds a claim before it
answers; NodeUnprepareResources removes it after its CDI spec is gone; both are idempotent.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kubelab_kit.files import atomic_write

DEFAULT_FILE = Path("/var/lib/kubelab-dra/checkpoint.json")


@dataclass(frozen=True)
class PreparedDevice:
    request: str
    pool: str
    device: str
    cdi: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PreparedClaim:
    namespace: str
    name: str
    devices: list[PreparedDevice]


class Checkpoint:
    def __init__(self, path: Path = DEFAULT_FILE) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._claims = self._load()

    def _load(self) -> dict[str, PreparedClaim]:
        try:
            doc = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        return {
            uid: PreparedClaim(c["namespace"], c["name"], [PreparedDevice(**d) for d in c["devices"]])
            for uid, c in doc.get("claims", {}).items()
        }

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        doc = {"claims": {uid: asdict(c) for uid, c in sorted(self._claims.items())}}
        atomic_write(self.path, json.dumps(doc, indent=2) + "\n")

    def get(self, uid: str) -> PreparedClaim | None:
        with self._lock:
            return self._claims.get(uid)

    def add(self, uid: str, claim: PreparedClaim) -> None:
        with self._lock:
            self._claims[uid] = claim
            self._save()

    def remove(self, uid: str) -> PreparedClaim | None:
        with self._lock:
            gone = self._claims.pop(uid, None)
            if gone is not None:
                self._save()
            return gone

    def uids(self) -> list[str]:
        with self._lock:
            return sorted(self._claims)
