"""Exec with streams (``kubectl exec``): the command run by ``runc exec`` in the container, its
stdio wired to the client's streams (book 4.3).

Without a TTY the process gets pipes. With one, runc allocates the container's terminal itself
and copies between it and its own stdio; runc's stdio is the slave end of a pseudo-terminal of
ours (raw mode, so nothing is echoed or translated twice) and a resize is set on ours followed
by SIGWINCH, which runc answers by resizing the container's terminal to match.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import signal
import struct
import subprocess
import termios
import threading
import tty
from collections.abc import Callable
from pathlib import Path

from kubelab_cri.streaming.remotecommand import Channels, Wanted, resize_events
from kubelab_cri.streaming.spdy import Stream


def pump_from(read: Callable[[], bytes], stream: Stream | None) -> None:
    """Copy ``read()`` chunks to ``stream`` until a chunk is empty; then half-close it."""
    while chunk := read():
        if stream is not None:
            stream.write(chunk)
    if stream is not None:
        stream.close()


def _reader(fd: int) -> Callable[[], bytes]:
    def read() -> bytes:
        try:
            return os.read(fd, 65536)
        except OSError:  # EIO: the terminal's other end is closed
            return b""

    return read


def set_size(fd: int, width: int, height: int) -> None:
    if width > 0 and height > 0:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))


def run(argv: list[str], wanted: Wanted, channels: Channels) -> int:
    """Run ``argv`` (``runc exec ...``) with the channels as its stdio; its exit code."""
    stdin, stdout, stderr = channels.get("stdin"), channels.get("stdout"), channels.get("stderr")
    threads: list[threading.Thread] = []
    if wanted.tty:
        master, slave = os.openpty()
        tty.setraw(slave)
        proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
        os.close(slave)
        threads.append(threading.Thread(target=pump_from, args=(_reader(master), stdout), daemon=True))
        resize = channels.get("resize")
        if resize is not None:

            def follow_resizes() -> None:
                for width, height in resize_events(resize):
                    with contextlib.suppress(OSError):
                        set_size(master, width, height)
                        proc.send_signal(signal.SIGWINCH)

            threading.Thread(target=follow_resizes, daemon=True).start()
        if stdin is not None:

            def feed_terminal() -> None:
                while chunk := stdin.read():
                    with contextlib.suppress(OSError):
                        os.write(master, chunk)

            threading.Thread(target=feed_terminal, daemon=True).start()
    else:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE if stdout else subprocess.DEVNULL,
            stderr=subprocess.PIPE if stderr else subprocess.DEVNULL,
        )
        for pipe, stream in ((proc.stdout, stdout), (proc.stderr, stderr)):
            if pipe is not None:
                threads.append(threading.Thread(target=pump_from, args=(_reader(pipe.fileno()), stream), daemon=True))
        if stdin is not None and proc.stdin is not None:
            sink = proc.stdin

            def feed() -> None:
                with contextlib.suppress(OSError):
                    while chunk := stdin.read():
                        sink.write(chunk)
                        sink.flush()
                with contextlib.suppress(OSError):
                    sink.close()  # the client's FIN is the command's end of input

            threading.Thread(target=feed, daemon=True).start()
    for t in threads:
        t.start()
    code = proc.wait()
    for t in threads:
        t.join(timeout=5)
    if wanted.tty:
        with contextlib.suppress(OSError):
            os.close(master)
    return code


def process_file(state: Path) -> Path:
    return state / f"stream-exec-{secrets.token_hex(4)}.json"
