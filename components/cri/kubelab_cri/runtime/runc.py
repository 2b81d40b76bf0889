"""runc, as the runtime calls it (book 4.3): state, start, kill, delete and exec by container ID.

Every call uses the runtime's own runc root (``--root``) and, with the systemd cgroup driver,
``--systemd-cgroup``; a failure is a :class:`RuncError` carrying runc's own message.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubelab_kit.errors import KubelabError


class RuncError(KubelabError):
    area = "cri"


@dataclass(frozen=True)
class Runc:
    binary: str
    root: Path
    systemd_cgroup: bool

    def argv(self, *args: str) -> list[str]:
        base = [self.binary, "--root", str(self.root)]
        if self.systemd_cgroup:
            base.append("--systemd-cgroup")
        return [*base, *args]

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        argv = self.argv(*args)
        try:
            return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RuncError(f"runc {args[0]}: {exc}", command=argv) from exc

    def _checked(self, *args: str) -> str:
        done = self._run(*args)
        if done.returncode != 0:
            raise RuncError(f"runc {' '.join(args)}: {done.stderr.strip() or done.returncode}")
        return done.stdout

    def state(self, container_id: str) -> dict[str, Any] | None:
        """runc's view (``status``: created, running, stopped, paused), None if runc has no such container."""
        done = self._run("state", container_id)
        if done.returncode != 0:
            return None
        state: dict[str, Any] = json.loads(done.stdout)
        return state

    def start(self, container_id: str) -> None:
        self._checked("start", container_id)

    def kill(self, container_id: str, signal: str, every_process: bool = False) -> None:
        args = ["kill", *(["--all"] if every_process else []), container_id, signal]
        done = self._run(*args)
        if done.returncode != 0 and "not running" not in done.stderr and "does not exist" not in done.stderr:
            raise RuncError(f"runc {' '.join(args)}: {done.stderr.strip()}")

    def delete(self, container_id: str) -> None:
        done = self._run("delete", "--force", container_id)
        if done.returncode != 0 and "does not exist" not in done.stderr:
            raise RuncError(f"runc delete {container_id}: {done.stderr.strip()}")

    def update(self, container_id: str, resources: dict[str, Any], scratch: Path) -> None:
        """``runc update --resources``: new CPU and memory limits for a running container."""
        scratch.write_text(json.dumps(resources))
        try:
            self._checked("update", "--resources", str(scratch), container_id)
        finally:
            scratch.unlink(missing_ok=True)

    def exec_argv(self, container_id: str, process_file: Path, pid_file: Path) -> list[str]:
        return self.argv("exec", "--process", str(process_file), "--pid-file", str(pid_file), container_id)
