"""The per-container monitor (``python -m kubelab_cri.runtime.shim``), conmon's job (book 4.3).

The runtime starts one for each container, in a session of its own, so that containers outlive
a restart of the runtime. It:

1. becomes a *child subreaper*, so the container's init (forked by ``runc create``, which then
   exits) is re-parented to it and its exit status can be collected;
2. runs ``runc create`` with the container's stdout and stderr as pipes it reads (or, for a TTY,
   receives the terminal's master end over ``--console-socket``), then tells the runtime on its
   own stdout, as one JSON line, ``{"pid": N}`` or ``{"error": "..."}``;
3. copies the output into the CRI log file until the container exits (SIGUSR1 reopens the file,
   for the kubelet's log rotation);
4. writes ``exit.json`` (exit code, 128+signal for a killed process, finish time, whether the
   memory cgroup recorded an OOM kill) into the state directory and exits.
"""

from __future__ import annotations

import argparse
import array
import contextlib
import ctypes
import fcntl
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import termios
import threading
import time
import traceback
from pathlib import Path

from kubelab_cri.runtime.attach_socket import NAME as ATTACH_NAME
from kubelab_cri.runtime.attach_socket import AttachServer
from kubelab_cri.runtime.cgroups import memory_cgroup
from kubelab_cri.runtime.crilog import LogFile, copy_stream

PR_SET_CHILD_SUBREAPER = 36
EXIT_FILE = "exit.json"
PID_FILE = "pid"


def become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def oom_kills(cgroup: Path | None) -> int:
    if cgroup is None:
        return 0
    for name in ("memory.oom_control", "memory.events"):
        try:
            text = (cgroup / name).read_text()
        except OSError:
            continue
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                return int(value)
    return 0


def receive_console(listener: socket.socket, runc: subprocess.Popen[bytes], timeout: float) -> int:
    """The terminal master runc sends over the console socket (SCM_RIGHTS); gives up as soon
    as runc has exited without sending it."""
    listener.settimeout(0.2)
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn, _ = listener.accept()
            break
        except TimeoutError:
            if runc.poll() is not None or time.monotonic() > deadline:
                raise OSError("runc sent no terminal over the console socket") from None
    with conn:
        fds = array.array("i")
        _, ancdata, _, _ = conn.recvmsg(4096, socket.CMSG_SPACE(fds.itemsize))
        for level, kind, data in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    if not fds:
        raise OSError("runc sent no terminal over the console socket")
    return fds[0]


class Input:
    """The container's input end (a pipe, or the terminal's master) and, for a TTY, its size."""

    def __init__(self, fd: int | None = None, terminal: int | None = None) -> None:
        self.fd = fd
        self.terminal = terminal
        self._lock = threading.Lock()

    def write(self, data: bytes) -> None:
        with self._lock, contextlib.suppress(OSError):
            if self.fd is not None:
                os.write(self.fd, data)

    def close(self) -> None:
        with self._lock:
            if self.fd is not None and self.fd != self.terminal:
                with contextlib.suppress(OSError):
                    os.close(self.fd)
            elif self.fd is not None:  # a terminal's input ends with end-of-file (^D)
                with contextlib.suppress(OSError):
                    os.write(self.fd, b"\x04")
            self.fd = None

    def resize(self, width: int, height: int) -> None:
        if self.terminal is not None and width > 0 and height > 0:
            with contextlib.suppress(OSError):
                fcntl.ioctl(self.terminal, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))


def report(message: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def runc_error(log_file: Path, fallback: str) -> str:
    messages = []
    try:
        for line in log_file.read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("level") in ("error", "fatal"):
                messages.append(str(entry.get("msg", "")))
    except OSError:
        pass
    return messages[-1] if messages else fallback


def run(args: argparse.Namespace) -> int:
    state = Path(args.state)
    state.mkdir(parents=True, exist_ok=True)
    (state / "shim.pid").write_text(str(os.getpid()))
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    become_subreaper()
    log = LogFile(Path(args.log))
    signal.signal(signal.SIGUSR1, lambda *_: log.reopen())
    runc_log = state / "runc.log"
    base = [args.runc, "--root", args.runc_root, "--log", str(runc_log), "--log-format", "json"]
    if args.systemd_cgroup:
        base.append("--systemd-cgroup")
    create = [*base, "create", "--bundle", args.bundle, "--pid-file", str(state / PID_FILE)]
    copiers: list[threading.Thread] = []
    listener: socket.socket | None = None
    # Unix socket paths are limited to 107 bytes and the state directory's can be longer: sockets
    # are named through this process's cwd, a short path that resolves from any directory.
    os.chdir(state)
    here = f"/proc/{os.getpid()}/cwd"
    io = Input()
    if args.tty:
        Path("console.sock").unlink(missing_ok=True)
        console = f"{here}/console.sock"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(console)
        listener.listen(1)
        create += ["--console-socket", console]
        proc = subprocess.Popen(
            [*create, args.id], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            master = receive_console(listener, proc, timeout=60)
        except OSError as exc:
            proc.wait()
            stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            report({"error": runc_error(runc_log, stderr.strip() or str(exc))})
            return 1
        _, stderr_bytes = proc.communicate()
        if proc.returncode != 0:
            os.close(master)
            report({"error": runc_error(runc_log, stderr_bytes.decode(errors="replace").strip())})
            return 1
        io = Input(master if args.stdin else None, terminal=master)
        outputs = [(master, "stdout")]
    else:
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        in_r, in_w = os.pipe() if args.stdin else (subprocess.DEVNULL, -1)
        done = subprocess.run([*create, args.id], stdin=in_r, stdout=out_w, stderr=err_w, check=False)
        for fd in (out_w, err_w, in_r):
            if fd >= 0:
                os.close(fd)
        if done.returncode != 0:
            os.close(out_r)
            os.close(err_r)
            report({"error": runc_error(runc_log, f"runc create exited with {done.returncode}")})
            return 1
        io = Input(in_w if in_w >= 0 else None)
        outputs = [(out_r, "stdout"), (err_r, "stderr")]
    Path(ATTACH_NAME).unlink(missing_ok=True)
    attach = AttachServer(
        f"{here}/{ATTACH_NAME}",
        io.write if args.stdin else None,
        io.close if args.stdin_once else None,
        io.resize if args.tty else None,
    )
    copiers += [
        threading.Thread(target=copy_stream, args=(fd, name, log, attach.broadcast), daemon=True)
        for fd, name in outputs
    ]
    pid = int((state / PID_FILE).read_text().strip())
    cgroup = memory_cgroup(pid)
    for copier in copiers:
        copier.start()
    report({"pid": pid})
    status = 0
    while True:  # reap every orphan; the container's init ends the loop
        try:
            reaped, status = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if reaped == pid:
            break
    finished = time.time_ns()
    for copier in copiers:
        copier.join(timeout=2)
    log.close()
    code = os.waitstatus_to_exitcode(status)
    exit_code = 128 - code if code < 0 else code
    attach.finish(exit_code)
    result = {"exit_code": exit_code, "finished_at": finished, "oom_killed": oom_kills(cgroup) > 0}
    partial = state / (EXIT_FILE + ".partial")
    partial.write_text(json.dumps(result))
    partial.replace(state / EXIT_FILE)
    if listener is not None:
        listener.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="kubelab-cri-shim")
    p.add_argument("--id", required=True)
    p.add_argument("--bundle", required=True)
    p.add_argument("--state", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--runc", default="runc")
    p.add_argument("--runc-root", required=True)
    p.add_argument("--systemd-cgroup", action="store_true")
    p.add_argument("--tty", action="store_true")
    p.add_argument("--stdin", action="store_true", help="the container reads a stdin that attach feeds")
    p.add_argument("--stdin-once", action="store_true", help="its stdin ends when the first attach does")
    try:
        return run(p.parse_args(argv))
    except Exception as exc:  # the runtime waits for one line: say what went wrong
        traceback.print_exc()
        with contextlib.suppress(OSError, ValueError):
            report({"error": f"the container monitor failed: {exc!r}"})
        return 1


if __name__ == "__main__":
    sys.exit(main())
