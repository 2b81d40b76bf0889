"""Container stats (ContainerStats, ListContainerStats) read from the container's cgroups and its
writable layer: what the kubelet's summary API (``kubectl top`` through metrics-server, the
eviction manager) shows for pods on this runtime.

- CPU: cumulative usage in nanoseconds (v1 ``cpuacct.usage``, v2 ``cpu.stat`` usage_usec);
- memory: usage, and the working set (usage minus inactive file pages, as the kubelet counts it),
  RSS and page faults;
- writable layer: bytes and inodes in the container's upper directory, on the store's mount.

A container that is not running has no cgroup to read: its CPU and memory are zero at the time asked.
"""

from __future__ import annotations

import time
from pathlib import Path

from kubelab_cri.disk_usage import walk_usage
from kubelab_cri.runtime.cgroups import cgroup_dirs
from kubelab_protos.gen.cri.v1 import api_pb2


def _read_int(path: Path) -> int:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _keyed(path: Path) -> dict[str, int]:
    out = {}
    try:
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            if value.strip().isdigit():
                out[key] = int(value)
    except OSError:
        pass
    return out


def cpu_ns(dirs: dict[str, Path]) -> int:
    if "cpuacct" in dirs:
        return _read_int(dirs["cpuacct"] / "cpuacct.usage")
    if "" in dirs:
        return _keyed(dirs[""] / "cpu.stat").get("usage_usec", 0) * 1000
    return 0


def memory(dirs: dict[str, Path]) -> tuple[int, int, int, int, int]:
    """usage, working set, rss, page faults, major page faults."""
    if "memory" in dirs:
        folder = dirs["memory"]
        usage = _read_int(folder / "memory.usage_in_bytes")
        stat = _keyed(folder / "memory.stat")
        inactive = stat.get("total_inactive_file", stat.get("inactive_file", 0))
        return (
            usage,
            max(usage - inactive, 0),
            stat.get("total_rss", stat.get("rss", 0)),
            stat.get("total_pgfault", 0),
            stat.get("total_pgmajfault", 0),
        )
    if "" in dirs:
        folder = dirs[""]
        usage = _read_int(folder / "memory.current")
        stat = _keyed(folder / "memory.stat")
        return (
            usage,
            max(usage - stat.get("inactive_file", 0), 0),
            stat.get("anon", 0),
            stat.get("pgfault", 0),
            stat.get("pgmajfault", 0),
        )
    return 0, 0, 0, 0, 0


def container_stats(
    attributes: api_pb2.ContainerAttributes, pid: int | None, upper: Path, mountpoint: str
) -> api_pb2.ContainerStats:
    now = time.time_ns()
    dirs = cgroup_dirs(pid) if pid else {}
    usage, working_set, rss, faults, major = memory(dirs)
    used, inodes = walk_usage(upper)  # (0, 0) once the container is removed
    return api_pb2.ContainerStats(
        attributes=attributes,
        cpu=api_pb2.CpuUsage(timestamp=now, usage_core_nano_seconds=api_pb2.UInt64Value(value=cpu_ns(dirs))),
        memory=api_pb2.MemoryUsage(
            timestamp=now,
            working_set_bytes=api_pb2.UInt64Value(value=working_set),
            usage_bytes=api_pb2.UInt64Value(value=usage),
            rss_bytes=api_pb2.UInt64Value(value=rss),
            page_faults=api_pb2.UInt64Value(value=faults),
            major_page_faults=api_pb2.UInt64Value(value=major),
        ),
        writable_layer=api_pb2.FilesystemUsage(
            timestamp=now,
            fs_id=api_pb2.FilesystemIdentifier(mountpoint=mountpoint),
            used_bytes=api_pb2.UInt64Value(value=used),
            inodes_used=api_pb2.UInt64Value(value=inodes),
        ),
    )
