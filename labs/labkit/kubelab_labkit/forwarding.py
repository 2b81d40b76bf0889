"""``kubectl port-forward`` as a context manager: a local port to a pod or service port, for
checkpoints that must talk to a component directly rather than through kube-apiserver."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

from kubelab_cluster.kind.kubectl import Kubectl

FORWARDING = re.compile(r"Forwarding from 127\.0\.0\.1:(\d+) ->")


@contextmanager
def port_forward(kubectl: Kubectl, namespace: str, target: str, port: int, timeout: float = 30.0) -> Iterator[int]:
    """Forward a free local port to ``target`` (``svc/name``, ``pod/name``) port ``port``; yields the local port."""
    argv = [
        str(kubectl.binary),
        "--kubeconfig",
        str(kubectl.kubeconfig),
        "-n",
        namespace,
        "port-forward",
        "--address=127.0.0.1",
        target,
        f":{port}",
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, seen = time.monotonic() + timeout, []
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
            seen.append(line)
            if m := FORWARDING.search(line):
                yield int(m.group(1))
                return
        raise AssertionError(f"kubectl port-forward {target} :{port} did not start: {''.join(seen)[-1000:]}")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
