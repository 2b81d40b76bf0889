"""The cache key of a generation and the ``.stamp.json`` that records it.

The stamp is the generator's own record (what was generated from what, and which
files it made); the stubs package never reads it. The key hashes every input .proto
(its staged name and bytes), the versions of grpcio-tools and protobuf, and
:data:`SCHEMA` (bump it when the generator's output changes). A pin bump that leaves
a file byte-identical therefore regenerates nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from importlib.metadata import version
from pathlib import Path, PurePosixPath
from typing import Any

from kubelab_cluster.protos.inputs import Input
from kubelab_kit.files import atomic_write

SCHEMA = 1
STAMP_NAME = ".stamp.json"  # in the output folder, beside the generated package's __init__.py


def tool_versions() -> dict[str, str]:
    return {name: version(name) for name in ("grpcio-tools", "protobuf")}


def input_key(inputs: Iterable[Input], tools: dict[str, str]) -> str:
    digest = hashlib.sha256(json.dumps({"schema": SCHEMA, "tools": tools}, sort_keys=True).encode())
    for item in sorted(inputs, key=lambda i: i.source.name):
        digest.update(f"\0{item.source.name}\0{item.source.staged_path}\0{len(item.data)}\0".encode())
        digest.update(item.data)
    return digest.hexdigest()


def read_stamp(out_root: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((out_root / STAMP_NAME).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def stamped_files(stamp: dict[str, Any] | None) -> list[str]:
    """The generated files a stamp lists, ignoring anything that would escape the output root."""
    files = (stamp or {}).get("files", [])
    if not isinstance(files, list):
        return []
    safe = []
    for name in files:
        path = PurePosixPath(str(name))
        if not path.is_absolute() and ".." not in path.parts:
            safe.append(path.as_posix())
    return safe


def is_current(out_root: Path, key: str) -> bool:
    """True when ``out_root`` holds a complete generation for ``key``."""
    stamp = read_stamp(out_root)
    if not stamp or stamp.get("key") != key:
        return False
    files = stamped_files(stamp)
    return bool(files) and all((out_root / f).is_file() for f in files)


def write_stamp(out_root: Path, key: str, tools: dict[str, str], inputs: Iterable[Input], files: list[str]) -> None:
    stamp = {
        "schema": SCHEMA,
        "key": key,
        "tools": tools,
        "inputs": {i.source.name: i.describe() for i in inputs},
        "files": files,
    }
    atomic_write(out_root / STAMP_NAME, json.dumps(stamp, indent=2, sort_keys=True) + "\n")
