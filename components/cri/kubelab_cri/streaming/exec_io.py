"""Exec with streams (``kubectl exec``): the command run by ``runc exec`` in the container, its
stdio wired to the client's streams (book 4.3).

Without a TTY the process gets pipes. With one, runc allocates the container's terminal itself
and copies between it and its own stdio; runc's stdio is the slave end of a pseudo-terminal of
ours (raw mode, so nothing is echoed or translated twice) and a resize is set on ours followed
by SIGWINCH, which runc answers by resizing the container's terminal to match. The client's
first size is waited for (briefly) and given to runc as the process's ``consoleSize``: a command
that asks for its size at once (``stty size``) must not see the 0x0 of a terminal not resized yet.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import queue
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


class Resizes:
    """The client's terminal sizes (width, height) as they arrive on the resize stream."""

    def __init__(self, stream: Stream | None) -> None:
        self._sizes: queue.Queue[tuple[int, int] | None] = queue.Queue()
        if stream is None:
            self._sizes.put(None)
        else:
            threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: Stream) -> None:
        for size in resize_events(stream):
            self._sizes.put(size)
        self._sizes.put(None)  # the stream ended

    def first(self, timeout: float = 1.0) -> tuple[int, int] | None:
        """The first size (kubectl and crictl send it as they open the streams); None if none comes."""
        try:
            size = self._sizes.get(timeout=timeout)
        except queue.Empty:
            return None
        if size is None:
            self._sizes.put(None)
        return size

    def follow(self, apply: Callable[[int, int], None]) -> None:
        while (size := self._sizes.get()) is not None:
            apply(*size)


def run(argv: list[str], wanted: Wanted, channels: Channels, resizes: Resizes, size: tuple[int, int] | None) -> int:
    """Run ``argv`` (``runc exec ...``) with the channels as its stdio; its exit code. ``size``
    is the client's terminal size the command starts with, ``resizes`` the ones that follow."""
    stdin, stdout, stderr = channels.get("stdin"), channels.get("stdout"), channels.get("stderr")
    threads: list[threading.Thread] = []
    if wanted.tty:
        master, slave = os.openpty()
        tty.setraw(slave)
        if size is not None:
            set_size(master, *size)
        proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
        os.close(slave)
        threads.append(threading.Thread(target=pump_from, args=(_reader(master), stdout), daemon=True))

        def resized(width: int, height: int) -> None:
            with contextlib.suppress(OSError):
                set_size(master, width, height)
                proc.send_signal(signal.SIGWINCH)

        threading.Thread(target=resizes.follow, args=(resized,), daemon=True).start()
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
