"""Per-container serialization: ADD, DEL and CHECK of one container ID never overlap.

An exclusive ``flock`` on ``<run dir>/locks/<containerID>``. flock belongs to an open file
description, so it serializes threads of the daemon and separate plugin processes alike,
and the kernel drops it when a holder dies (a killed ADD cannot wedge the next DEL).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

from kubelab_cni.paths import run_dir


@contextmanager
def attachment_lock(container_id: str, base: str | None = None) -> Iterator[None]:
    directory = os.path.join(base or run_dir(), "locks")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    fd = os.open(os.path.join(directory, container_id), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
