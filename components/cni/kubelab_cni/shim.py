"""``kubelab-cni``: the plugin executable the runtime runs. Standard library only.

It forwards the exec protocol (the CNI_* environment and stdin) to ``kubelab-cni-daemon``
over a unix socket and replays the daemon's exit status, stdout and stderr. With no daemon
listening (or one in another network namespace) it does the work itself, in-process:
slower, because it must import pyroute2, but with the same result.
"""

from __future__ import annotations

import json
import os
import socket
import sys

from kubelab_cni import wire

SOCKET_ENV = "KUBELAB_CNI_SOCKET"
DEFAULT_SOCKET = "/run/kubelab-cni/daemon.sock"
FORWARDED_PREFIXES = ("CNI_", "KUBELAB_CNI_TEST_")
TIMEOUT_S = 300.0


def _netns_id() -> list[int]:
    st = os.stat("/proc/self/ns/net")
    return [st.st_dev, st.st_ino]


def _try_again(msg: str, details: str) -> tuple[int, bytes, bytes]:
    doc = {"cniVersion": "1.1.0", "code": 11, "msg": msg, "details": details}
    return 1, (json.dumps(doc, indent=2) + "\n").encode(), f"kubelab-cni: {msg}: {details}\n".encode()


def forward(env: dict[str, str], stdin: bytes, path: str) -> tuple[int, bytes, bytes] | None:
    """The daemon's answer, or None when there is no daemon to ask (then run in-process)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        try:
            sock.connect(path)
        except (FileNotFoundError, ConnectionRefusedError):
            return None
        sock.settimeout(TIMEOUT_S)
        header = json.dumps({"env": env, "netns": _netns_id()}).encode()
        try:
            wire.send_blobs(sock, header, stdin)
            raw_header, out, err = wire.recv_blobs(sock, 3)
        except (EOFError, OSError) as exc:
            return _try_again("kubelab-cni-daemon went away during the request", str(exc))
        reply = json.loads(raw_header)
        if reply.get("rc") is None:  # refused, e.g. the daemon lives in another network namespace
            return None
        return int(reply["rc"]), out, err
    finally:
        sock.close()


def in_process(env: dict[str, str], stdin: bytes) -> tuple[int, bytes, bytes]:
    from kubelab_cni.commands import run

    outcome = run(env, stdin)
    return outcome.rc, outcome.stdout, outcome.stderr


def main() -> None:
    stdin = sys.stdin.buffer.read()
    env = {k: v for k, v in os.environ.items() if k.startswith(FORWARDED_PREFIXES)}
    answer = forward(env, stdin, os.environ.get(SOCKET_ENV) or DEFAULT_SOCKET)
    if answer is None:
        answer = in_process(dict(os.environ), stdin)
    rc, out, err = answer
    if err:
        sys.stderr.buffer.write(err)
        sys.stderr.flush()
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    sys.exit(rc)


if __name__ == "__main__":
    main()
