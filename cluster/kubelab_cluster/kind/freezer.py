"""Thawing what runc left frozen, so that a node container can be removed (cgroup v1 hosts).

On cgroup v1, runc freezes a container's cgroup while it sets the container up; a container
deleted in that window (a lab's burst of pods created and deleted) can stay FROZEN with its
``runc init`` in the kernel's refrigerator. Docker then cannot kill the node container ("tried
to kill container, but did not receive an exit event") and ``kind delete`` fails. Writing
``THAWED`` to those cgroups' ``freezer.state`` lets the processes die. Measured here: a CI run's
``cluster-down`` failed so, 14 containers of one worker frozen; thawed, the node went at once.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

FREEZER = Path("/sys/fs/cgroup/freezer")


def container_ids(names: list[str]) -> list[str]:
    if not names:
        return []
    proc = subprocess.run(["docker", "inspect", "-f", "{{.Id}}", *names], capture_output=True, text=True, check=False)
    return [line for line in proc.stdout.split() if line]


def thaw(ids: list[str], root: Path = FREEZER) -> int:
    """Thaw every frozen cgroup under the containers' freezer cgroups; how many were frozen."""
    if not ids or not root.is_dir():
        return 0
    thawed = 0
    for state in root.rglob("freezer.state"):
        if not any(i in str(state.parent) for i in ids):
            continue
        try:
            if state.read_text().strip() != "THAWED":
                state.write_text("THAWED")
                thawed += 1
        except OSError:
            continue  # gone meanwhile
    return thawed
