"""Debian's docker engine: query it, install it, start and restart dockerd.

Where systemd is PID 1 the ``docker`` unit is used. Elsewhere (containers, VMs whose
init is something else) dockerd runs as a plain background daemon started here, its
output appended to :data:`DOCKERD_LOG`, its pid in :data:`DOCKERD_PIDFILE` (dockerd
writes that file itself). Debian's /etc/init.d/docker is not used: it runs
``ulimit -n 1048576``, which fails on hosts without ``CAP_SYS_RESOURCE``.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubelab_cluster.host import packages
from kubelab_cluster.host.errors import HostError

ENGINE_PACKAGE = "docker.io"
DOCKERD_LOG = Path("/var/log/kubelab-dockerd.log")
DOCKERD_PIDFILE = Path("/var/run/docker.pid")
INSTALL_COMMAND = packages.install_command([ENGINE_PACKAGE])


class EngineError(HostError):
    def __init__(self, problem: str, fix: str = "", log_tail: str = "") -> None:
        super().__init__(problem, fix=fix, output=log_tail)


@dataclass(frozen=True)
class EngineInfo:
    """What a reachable engine says about itself (``docker version`` + ``docker info``)."""

    server_version: str
    api_version: str
    client_version: str
    client_api_version: str
    default_runtime: str
    runtimes: tuple[str, ...]
    root_dir: str
    cgroup_driver: str
    cgroup_version: str
    storage_driver: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


def _docker_json(docker: str, *args: str, timeout: float) -> tuple[dict[str, Any] | None, str]:
    try:
        proc = subprocess.run(
            [docker, *args, "--format", "{{json .}}"], capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return None, f"`docker {' '.join(args)}` did not answer within {timeout:.0f} s"
    except OSError as exc:
        return None, str(exc)
    try:
        data = json.loads(proc.stdout) if proc.stdout.strip() else None
    except json.JSONDecodeError:
        data = None
    if proc.returncode != 0 or not isinstance(data, dict):
        message = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        return None, message[-1] if message else f"exit status {proc.returncode}"
    return data, ""


def query(docker: str = "docker", timeout: float = 20.0) -> tuple[EngineInfo | None, str]:
    """The engine's facts, or (None, why it cannot be reached)."""
    version, error = _docker_json(docker, "version", timeout=timeout)
    server = (version or {}).get("Server") or {}
    if not version or not server:
        return None, error or "the docker CLI reached no engine"
    info, error = _docker_json(docker, "info", timeout=timeout)
    if not info or info.get("ServerErrors"):
        return None, error or "; ".join(info.get("ServerErrors", []) if info else [])
    client = version.get("Client") or {}
    return EngineInfo(
        server_version=str(server.get("Version", "")),
        api_version=str(server.get("ApiVersion", "")),
        client_version=str(client.get("Version", "")),
        client_api_version=str(client.get("ApiVersion", "")),
        default_runtime=str(info.get("DefaultRuntime", "")),
        runtimes=tuple(sorted(info.get("Runtimes") or {})),
        root_dir=str(info.get("DockerRootDir", "")),
        cgroup_driver=str(info.get("CgroupDriver", "")),
        cgroup_version=str(info.get("CgroupVersion", "")),
        storage_driver=str(info.get("Driver", "")),
        raw=info,
    ), ""


def systemd_is_init(proc: Path = Path("/proc")) -> bool:
    try:
        return (proc / "1" / "comm").read_text().strip() == "systemd"
    except OSError:
        return False


def install_engine() -> str:
    """``apt-get install docker.io`` (after ``apt-get update`` if apt knows no candidate); returns its version."""
    try:
        return packages.install([ENGINE_PACKAGE])[ENGINE_PACKAGE]
    except packages.AptError as exc:
        raise EngineError(f"installing {ENGINE_PACKAGE} failed: {exc.problem}", log_tail=exc.output[-2000:]) from exc


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise EngineError(f"{what} failed (exit {proc.returncode}): {' '.join(command)}", log_tail=tail)


def running_pid(pidfile: Path = DOCKERD_PIDFILE) -> int | None:
    """The pid of a live dockerd according to its pidfile, else None."""
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def _raise_nofile() -> None:
    # Containers inherit dockerd's limits; without CAP_SYS_RESOURCE only the soft
    # limit can be raised, up to the hard one.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


_START_MARKER = "--- kubelab-host: starting "


def log_tail(path: Path = DOCKERD_LOG, lines: int = 20) -> str:
    """The last ``lines`` lines the latest dockerd started here wrote (not those of earlier runs)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    latest = text.rpartition(_START_MARKER)
    body = latest[2].partition("\n")[2] if latest[1] else text
    return "\n".join(body.strip().splitlines()[-lines:])


def start(timeout: float = 90.0, docker: str = "docker") -> str:
    """Start dockerd and wait until ``docker`` reaches it; returns how it was started."""
    if systemd_is_init():
        _run(["systemctl", "enable", "--now", "docker"], env=dict(os.environ), what="systemctl enable --now docker")
        wait_ready(timeout, docker=docker, log_hint="journalctl -u docker")
        return "systemctl enable --now docker"
    dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
    if not os.access(dockerd, os.X_OK):
        raise EngineError("dockerd is not installed", fix=" ".join(INSTALL_COMMAND))
    pid = running_pid()
    if pid is not None:
        raise EngineError(
            f"dockerd (pid {pid}) is running but does not answer",
            fix=f"look at {DOCKERD_LOG}, then stop it (kill {pid}) and rerun `kubelab-host setup`",
            log_tail=log_tail(),
        )
    DOCKERD_LOG.parent.mkdir(parents=True, exist_ok=True)
    with open(DOCKERD_LOG, "ab") as log:
        log.write(f"\n{_START_MARKER}{dockerd} at {time.strftime('%Y-%m-%dT%H:%M:%S%z')}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            [dockerd],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_raise_nofile,
            close_fds=True,
        )
    wait_ready(timeout, docker=docker, proc=proc)
    return f"{dockerd} (pid {proc.pid}, log {DOCKERD_LOG})"


def wait_ready(
    timeout: float, docker: str = "docker", proc: subprocess.Popen[bytes] | None = None, log_hint: str = ""
) -> None:
    deadline = time.monotonic() + timeout
    error = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise EngineError(
                f"dockerd exited with status {proc.returncode} while starting",
                fix=f"read {DOCKERD_LOG}",
                log_tail=log_tail(),
            )
        info, error = query(docker, timeout=10)
        if info is not None:
            return
        time.sleep(0.5)
    raise EngineError(
        f"dockerd did not answer within {timeout:.0f} s (last error: {error})",
        fix=f"read {log_hint or DOCKERD_LOG}",
        log_tail="" if log_hint else log_tail(),
    )


def stop(timeout: float = 60.0) -> None:
    """Stop the dockerd named by the pidfile (SIGTERM, then wait for it to exit)."""
    pid = running_pid()
    if pid is None:
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.2)
    raise EngineError(f"dockerd (pid {pid}) did not stop within {timeout:.0f} s", fix=f"kill -9 {pid}")


def restart(timeout: float = 90.0, docker: str = "docker") -> str:
    """Restart dockerd so that it reads /etc/docker/daemon.json again."""
    if systemd_is_init():
        _run(["systemctl", "restart", "docker"], env=dict(os.environ), what="systemctl restart docker")
        wait_ready(timeout, docker=docker, log_hint="journalctl -u docker")
        return "systemctl restart docker"
    if running_pid() is None:
        raise EngineError(
            f"the engine answers, but no live dockerd is named in {DOCKERD_PIDFILE}",
            fix="restart dockerd yourself so that it reads /etc/docker/daemon.json, then rerun `kubelab-host check`",
        )
    stop()
    return start(timeout, docker=docker)
