"""``/etc/docker/daemon.json``: register a runtime as dockerd's default, merging, never clobbering.

Only two keys are ours: ``runtimes.<name>`` and ``default-runtime``. Every other
setting, and every other runtime, is kept as it was. A file that is not a JSON object,
or a default runtime someone else chose, is an error rather than something to
overwrite.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from kubelab_cluster.host.errors import HostError
from kubelab_kit.files import atomic_write

DAEMON_JSON = Path("/etc/docker/daemon.json")
_DOCKER_DEFAULT_RUNTIME = "runc"


class DaemonJsonError(HostError):
    pass


def load(path: Path = DAEMON_JSON) -> dict[str, Any]:
    """The settings in ``path``; an empty dict when the file is missing or empty."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DaemonJsonError(f"{path} is not valid JSON ({exc}); fix it by hand, then rerun") from exc
    if not isinstance(data, dict):
        raise DaemonJsonError(f"{path} does not hold a JSON object; fix it by hand, then rerun")
    return data


def is_registered(settings: dict[str, Any], name: str, runtime_path: Path) -> bool:
    runtimes = settings.get("runtimes")
    entry = runtimes.get(name) if isinstance(runtimes, dict) else None
    return (
        settings.get("default-runtime") == name and isinstance(entry, dict) and entry.get("path") == str(runtime_path)
    )


def merge_runtime(settings: dict[str, Any], name: str, runtime_path: Path) -> dict[str, Any]:
    """A copy of ``settings`` with runtime ``name`` registered at ``runtime_path`` and made the default."""
    current = settings.get("default-runtime")
    if current not in (None, _DOCKER_DEFAULT_RUNTIME, name):
        raise DaemonJsonError(
            f'daemon.json already sets "default-runtime": {current!r}; kubelab will not replace it. '
            f"Make {name!r} (path {runtime_path}) the default by hand, or remove that setting and rerun"
        )
    runtimes = settings.get("runtimes", {})
    if not isinstance(runtimes, dict):
        raise DaemonJsonError('daemon.json "runtimes" is not an object; fix it by hand, then rerun')
    merged = copy.deepcopy(settings)
    entry = dict(runtimes.get(name) or {})
    entry["path"] = str(runtime_path)
    merged["runtimes"] = {**copy.deepcopy(runtimes), name: entry}
    merged["default-runtime"] = name
    return merged


def render(settings: dict[str, Any]) -> str:
    return json.dumps(settings, indent=2) + "\n"


def register(name: str, runtime_path: Path, path: Path = DAEMON_JSON) -> bool:
    """Merge the runtime into ``path``; True if the file changed (dockerd must then restart)."""
    before = load(path)
    after = merge_runtime(before, name, runtime_path)
    if after == before:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        backup = path.with_name(path.name + ".before-kubelab")
        if not backup.exists():
            backup.write_bytes(path.read_bytes())
    atomic_write(path, render(after), mode=0o644)
    return True
