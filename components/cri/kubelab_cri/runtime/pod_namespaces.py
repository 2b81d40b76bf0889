"""The namespaces a pod's containers share besides the network: the part a pause container plays.

- IPC and UTS are pinned by bind mounts (as ``ip netns`` pins a network namespace), made by
  ``unshare --ipc=FILE --uts=FILE`` running one command that sets the pod's hostname; no process
  has to stay alive for them.
- A pod-wide PID namespace (``shareProcessNamespace``) cannot be pinned that way: a PID namespace
  whose init has exited accepts no new process. A holder stays alive as its PID 1, a few lines of
  Python (:mod:`kubelab_cri.runtime.pod_reaper`) that reap whatever is re-parented to them
  (orphans of every container of the pod).

Everything lives under the sandbox's own folder (``ns/``), so a runtime restart finds it again,
and ``release`` undoes it whatever was left half done.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from kubelab_kit.grpc import GrpcStatusError

SET_HOSTNAME = "import socket, sys; socket.sethostname(sys.argv[1])"


def _start_time(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (clock ticks since boot): tells a reused PID from the holder."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


@dataclass(frozen=True)
class PodNamespaces:
    folder: Path  # <root>/sandboxes/<id>/ns

    @property
    def ipc(self) -> Path:
        return self.folder / "ipc"

    @property
    def uts(self) -> Path:
        return self.folder / "uts"

    @property
    def _holder_file(self) -> Path:
        return self.folder / "pid-holder.json"

    # -- creation ------------------------------------------------------------------------------
    def create(self, *, ipc: bool, uts: bool, hostname: str, pid: bool) -> None:
        """Pin the pod's IPC and UTS namespaces (those asked for) and start the PID holder if asked."""
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            if ipc or uts:
                self._pin(ipc=ipc, uts=uts, hostname=hostname)
            if pid:
                self._start_holder()
        except BaseException:
            self.release()
            raise

    def _pin(self, *, ipc: bool, uts: bool, hostname: str) -> None:
        argv = ["unshare"]
        for wanted, path, flag in ((ipc, self.ipc, "--ipc"), (uts, self.uts, "--uts")):
            if wanted:
                path.touch()
                argv.append(f"{flag}={path}")
        argv += ["--", sys.executable, "-c", SET_HOSTNAME if uts and hostname else "pass", hostname]
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise GrpcStatusError(f"RunPodSandbox: cannot pin the pod's namespaces ({' '.join(argv)}): {proc.stderr}")

    def _start_holder(self) -> None:
        unshare = subprocess.Popen(
            ["unshare", "--pid", "--fork", "--", sys.executable, "-m", "kubelab_cri.runtime.pod_reaper"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # not in the runtime's process group: a runtime restart leaves it
        )
        children = Path(f"/proc/{unshare.pid}/task/{unshare.pid}/children")
        deadline = time.monotonic() + 5
        holder = 0
        while not holder and time.monotonic() < deadline:
            if unshare.poll() is not None:
                err = unshare.stderr.read().decode() if unshare.stderr else ""
                raise GrpcStatusError(f"RunPodSandbox: the pod's PID namespace holder exited: {err.strip()}")
            with contextlib.suppress(OSError, ValueError, IndexError):  # not forked yet: no child listed
                holder = int(children.read_text().split()[0])
            if not holder:
                time.sleep(0.01)
        if unshare.stderr:
            unshare.stderr.close()
        if not holder:
            os.kill(unshare.pid, signal.SIGKILL)
            raise GrpcStatusError("RunPodSandbox: the pod's PID namespace holder did not start within 5 s")
        record = {"pid": holder, "start": _start_time(holder), "parent": unshare.pid}
        self._holder_file.write_text(json.dumps(record))

    # -- what containers join ------------------------------------------------------------------
    def ipc_path(self) -> str | None:
        return str(self.ipc) if self.ipc.exists() else None

    def uts_path(self) -> str | None:
        return str(self.uts) if self.uts.exists() else None

    def holder_pid(self) -> int | None:
        """The PID holder's PID while it runs (None: no pod-wide PID namespace, or it is gone)."""
        try:
            record = json.loads(self._holder_file.read_text())
        except (OSError, ValueError):
            return None
        pid = int(record["pid"])
        return pid if _start_time(pid) == record["start"] else None

    def pid_path(self) -> str | None:
        pid = self.holder_pid()
        return f"/proc/{pid}/ns/pid" if pid else None

    # -- release -------------------------------------------------------------------------------
    def release(self) -> None:
        """Stop the holder (its PID namespace dies with it), unpin IPC and UTS; idempotent."""
        pid = self.holder_pid()
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(OSError, ValueError, KeyError):
                parent = int(json.loads(self._holder_file.read_text())["parent"])
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(parent, 0)  # ours unless the runtime restarted since (then init reaps it)
        self._holder_file.unlink(missing_ok=True)
        for pin in (self.ipc, self.uts):
            if pin.exists():
                subprocess.run(["umount", "--lazy", str(pin)], capture_output=True, check=False)
                pin.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.folder.rmdir()
