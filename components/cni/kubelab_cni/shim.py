"""``kubelab-cni``: the plugin executable the runtime runs. Standard library only.

It forwards the exec protocol (the CNI_* environment and stdin) to ``kubelab-cni-daemon``
over a unix socket and replays the daemon's exit status, stdout and stderr. With no daemon
listening (or one in another network namespace) it does the work itself, in-process:
slower, because it must import pyroute2, but with the same result.

This runs once per plugin call, so its own start is most of a call's cost: it imports only
modules built into the interpreter (``_socket``, ``posix``), not ``os``, ``socket`` or
``json`` (together ~15 ms of imports, more than the daemon's work for a DEL).
"""

from __future__ import annotations

import posix
import sys
from _socket import AF_UNIX, SOCK_STREAM, socket

from kubelab_cni import wire

SOCKET_ENV = b"KUBELAB_CNI_SOCKET"
DEFAULT_SOCKET = "/run/kubelab-cni/daemon.sock"
FORWARDED_PREFIXES = (b"CNI_", b"KUBELAB_CNI_TEST_")
TIMEOUT_S = 300.0


def _netns_id() -> tuple[int, int]:
    st = posix.stat("/proc/self/ns/net")
    return st.st_dev, st.st_ino


def _try_again(msg: str, details: str) -> tuple[int, bytes, bytes]:
    import json

    doc = {"cniVersion": "1.1.0", "code": 11, "msg": msg, "details": details}
    return 1, (json.dumps(doc, indent=2) + "\n").encode(), f"kubelab-cni: {msg}: {details}\n".encode()


def forward(env: dict[bytes, bytes], stdin: bytes, path: str | bytes) -> tuple[int, bytes, bytes] | None:
    """The daemon's answer, or None when there is no daemon to ask (then run in-process)."""
    sock = socket(AF_UNIX, SOCK_STREAM)
    try:
        try:
            sock.connect(path)
        except (FileNotFoundError, ConnectionRefusedError):
            return None
        sock.settimeout(TIMEOUT_S)
        header = wire.encode_request(_netns_id(), env.items())
        try:
            wire.send_blobs(sock, header, stdin)
            raw_header, out, err = wire.recv_blobs(sock, 3)
            rc = wire.decode_reply(raw_header)
        except (EOFError, OSError, ValueError) as exc:
            return _try_again("kubelab-cni-daemon went away during the request", str(exc))
        if rc is None:  # refused, e.g. the daemon lives in another network namespace
            return None
        return rc, out, err
    finally:
        sock.close()


def in_process(env: dict[str, str], stdin: bytes) -> tuple[int, bytes, bytes]:
    from kubelab_cni.commands import run

    outcome = run(env, stdin)
    return outcome.rc, outcome.stdout, outcome.stderr


def main() -> None:
    stdin = sys.stdin.buffer.read()
    environ: dict[bytes, bytes] = posix.environ
    env = {k: v for k, v in environ.items() if k.startswith(FORWARDED_PREFIXES)}
    answer = forward(env, stdin, environ.get(SOCKET_ENV) or DEFAULT_SOCKET)
    if answer is None:
        import os

        answer = in_process(dict(os.environ), stdin)
    reply(*answer)


def reply(rc: int, out: bytes, err: bytes) -> None:
    """Answer as the plugin process: stderr, stdout, then exit with ``rc``."""
    if err:
        sys.stderr.buffer.write(err)
        sys.stderr.flush()
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    sys.exit(rc)


if __name__ == "__main__":
    main()
