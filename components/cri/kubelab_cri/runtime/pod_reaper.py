"""PID 1 of a pod's shared PID namespace (``shareProcessNamespace``), the part a pause container
plays: it reaps every process re-parented to it (the orphans of the pod's containers) and exits on
SIGTERM. Started by :mod:`kubelab_cri.runtime.pod_namespaces` as
``unshare --pid --fork python3 -m kubelab_cri.runtime.pod_reaper``; standard library only.
"""

from __future__ import annotations

import os
import signal
from types import FrameType


def reap(_signum: int = 0, _frame: FrameType | None = None) -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main() -> None:
    signal.signal(signal.SIGCHLD, reap)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
