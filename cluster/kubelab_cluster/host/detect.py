"""What this host has: docker CLI and engine, root, OS, capabilities, disk, cgroups.

Everything here only reads; :func:`gather` collects it into :class:`HostFacts`.
The parsers take text so that tests can feed them fake ``/proc`` and ``/etc`` files.
"""

from __future__ import annotations

import os
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from kubelab_cluster.host import daemon_json, docker_engine, packages, runtime_wrapper
from kubelab_cluster.host.docker_engine import EngineInfo
from kubelab_kit import capabilities
from kubelab_kit.capabilities import CapabilitySets

DOCKER_ROOT = Path("/var/lib/docker")
GIB = 1 << 30
MIN_FREE_GIB = 20
DEBIAN_LIKE = frozenset({"debian", "ubuntu"})


def parse_os_release(text: str) -> dict[str, str]:
    """``KEY=value`` lines of /etc/os-release (shell quoting removed, comments skipped)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, raw = line.partition("=")
        try:
            words = shlex.split(raw)
        except ValueError:
            words = [raw.strip("\"'")]
        values[key.strip()] = " ".join(words)
    return values


def is_debian_like(os_release: dict[str, str]) -> bool:
    ids = {os_release.get("ID", "").lower(), *os_release.get("ID_LIKE", "").lower().split()}
    return bool(ids & DEBIAN_LIKE)


def cgroup_version(mounts: str) -> str:
    """``v2`` (unified), ``hybrid`` (v1 controllers plus a cgroup2 mount) or ``v1``, from /proc/mounts text."""
    v1 = v2 = False
    for line in mounts.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        target, fstype = parts[1], parts[2]
        if fstype == "cgroup2":
            if target == "/sys/fs/cgroup":
                return "v2"
            v2 = True
        elif fstype == "cgroup":
            v1 = True
    if v1 and v2:
        return "hybrid"
    return "v1" if v1 else ("v2" if v2 else "none")


def free_bytes(path: Path) -> tuple[Path, int]:
    """Free bytes on the filesystem holding ``path`` (or its nearest existing parent)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    usage = shutil.disk_usage(probe)
    return probe, usage.free


@dataclass(frozen=True)
class HostFacts:
    docker_cli: str | None
    dockerd: str | None
    engine: EngineInfo | None
    engine_error: str
    is_root: bool
    os_release: dict[str, str]
    caps: CapabilitySets
    missing_caps: list[str]
    cgroup: str
    systemd_init: bool
    disk_path: Path
    disk_free: int
    wrapper_text: str | None  # what the wrapper would be now; None when runc or python3 is missing
    wrapper: runtime_wrapper.WrapperState
    daemon_json_registered: bool
    daemon_json_error: str = ""
    missing_packages: list[str] = field(default_factory=list)  # Debian packages a build or image step runs
    notes: list[str] = field(default_factory=list)

    @property
    def restricted(self) -> bool:
        """The bounding set lacks a capability, so privileged containers need the capfix runtime."""
        return bool(self.missing_caps)

    @property
    def os_name(self) -> str:
        return self.os_release.get("PRETTY_NAME") or self.os_release.get("ID", "unknown")

    @property
    def debian_like(self) -> bool:
        return is_debian_like(self.os_release)

    @property
    def capfix_active(self) -> bool:
        return self.engine is not None and self.engine.default_runtime == runtime_wrapper.RUNTIME_NAME


def expected_wrapper(missing_caps: list[str]) -> str | None:
    try:
        return runtime_wrapper.render(
            runtime_wrapper.find_real_runc(), missing_caps, runtime_wrapper.find_system_python()
        )
    except runtime_wrapper.WrapperError:
        return None


def gather(docker: str = "docker") -> HostFacts:
    caps, last_cap = capabilities.read_own()
    missing = caps.missing_from_bounding(last_cap)
    try:
        os_release = parse_os_release(Path("/etc/os-release").read_text())
    except OSError:
        os_release = {}
    docker_cli = shutil.which(docker)
    engine, engine_error = docker_engine.query(docker) if docker_cli else (None, "no docker CLI on PATH")
    disk_root = Path(engine.root_dir) if engine and engine.root_dir else DOCKER_ROOT
    disk_path, disk_free = free_bytes(disk_root)
    wrapper_text = expected_wrapper(missing) if missing else None
    daemon_error = ""
    try:
        registered = daemon_json.is_registered(
            daemon_json.load(), runtime_wrapper.RUNTIME_NAME, runtime_wrapper.WRAPPER_PATH
        )
    except daemon_json.DaemonJsonError as exc:
        registered, daemon_error = False, str(exc)
    return HostFacts(
        docker_cli=docker_cli,
        dockerd=shutil.which("dockerd") or next((p for p in ("/usr/sbin/dockerd",) if os.access(p, os.X_OK)), None),
        engine=engine,
        engine_error=engine_error,
        is_root=os.geteuid() == 0,
        os_release=os_release,
        caps=caps,
        missing_caps=missing,
        cgroup=cgroup_version(Path("/proc/self/mounts").read_text()),
        systemd_init=docker_engine.systemd_is_init(),
        disk_path=disk_path,
        disk_free=disk_free,
        wrapper_text=wrapper_text,
        wrapper=runtime_wrapper.state(wrapper_text or "", runtime_wrapper.WRAPPER_PATH),
        daemon_json_registered=registered,
        daemon_json_error=daemon_error,
        missing_packages=packages.missing(packages.required()),
    )
