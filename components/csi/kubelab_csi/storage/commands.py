"""Running the storage tools (btrfs, losetup, mkfs): output back, or a StorageError with the command."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from kubelab_csi.errors import StorageError


def run(argv: Sequence[str], *, what: str) -> str:
    """Run ``argv``; its stdout, or :class:`StorageError` naming ``what`` failed, with the tool's message."""
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, check=False, timeout=120)
    except FileNotFoundError as exc:
        raise StorageError(
            f"{what}: {argv[0]} is not installed", command=list(argv), fix="install btrfs-progs and util-linux"
        ) from exc
    if done.returncode != 0:
        raise StorageError(f"{what} failed", command=list(argv), output=(done.stderr or done.stdout))
    return done.stdout


def message(exc: StorageError) -> str:
    """The tool's last line of output, for a status message a client reads."""
    lines = [line.strip() for line in exc.output.strip().splitlines() if line.strip()]
    return f"{exc.problem}: {lines[-1]}" if lines else exc.problem
