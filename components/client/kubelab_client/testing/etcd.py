"""A throwaway etcd for tests: one member on free loopback ports, without fsync (its data goes
with its folder). envtest's control plane runs on one; storage tests use one alone.

    with Etcd(binary, workdir) as etcd:
        etcd.url        # http://127.0.0.1:<port>
        etcd.endpoint   # 127.0.0.1:<port>
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from kubelab_client.errors import ClientError


class ProcessError(ClientError):
    """A test process did not start; the message ends with its log's last lines."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class Etcd:
    binary: Path
    workdir: Path
    start_timeout: float = 60.0
    url: str = field(init=False, default="")
    log: Path = field(init=False)
    _proc: subprocess.Popen[bytes] | None = field(init=False, default=None)

    @property
    def endpoint(self) -> str:
        return self.url.removeprefix("http://")

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        return self._proc

    def __enter__(self) -> Etcd:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        client, peer = free_port(), free_port()
        self.url, peer_url = f"http://127.0.0.1:{client}", f"http://127.0.0.1:{peer}"
        self.log = self.workdir / "etcd.log"
        argv = [
            str(self.binary),
            f"--data-dir={self.workdir / 'etcd'}",
            f"--listen-client-urls={self.url}",
            f"--advertise-client-urls={self.url}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=default={peer_url}",
            "--unsafe-no-fsync",
            "--log-level=warn",
        ]
        with self.log.open("wb") as out:
            self._proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline, last = time.monotonic() + self.start_timeout, ""
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise ProcessError(f"etcd exited with status {self._proc.returncode}:\n{tail(self.log)}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=5) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError) as exc:
                last = str(exc)
            time.sleep(0.1)
        raise ProcessError(f"etcd not healthy after {self.start_timeout:g} s ({last}):\n{tail(self.log)}")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
