"""Where a process's cgroups are (cgroup v1 per controller, or the v2 unified hierarchy):
for the container's stats and its monitor's OOM check. Standard library only (the monitor
imports it: one per container, kept small)."""

from __future__ import annotations

from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def cgroup_dirs(pid: int) -> dict[str, Path]:
    """controller -> the process's cgroup directory (``""``: the v2 unified hierarchy)."""
    out: dict[str, Path] = {}
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            base = CGROUP_ROOT if controller == "" else CGROUP_ROOT / controller
            if (
                controller == ""
                and (CGROUP_ROOT / "unified").is_dir()
                and not (CGROUP_ROOT / "cgroup.controllers").exists()
            ):
                base = CGROUP_ROOT / "unified"
            out[controller] = base / path.lstrip("/")
    return out


def memory_cgroup(pid: int) -> Path | None:
    """The process's memory cgroup directory (v1 ``memory``, else the v2 unified one)."""
    dirs = cgroup_dirs(pid)
    return dirs.get("memory") or dirs.get("")
