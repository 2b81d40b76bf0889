"""``python3 -m kubelab_cni``: the plugin, run in this process (no daemon asked).

This is how the CNI lab runs a plugin handed in as a Python package directory (``--impl``):
the agent writes ``/opt/cni/bin/kubelab-student``, which ``runpy``-runs the package with the
node's python3. The lab's ``[impl] reference`` is this package, so a plain ``nox -s lab-cni``
grades the reference through that same path (``commands.run`` in-process, with pyroute2 and
pydantic from the agent's ``/opt/kubelab-cni/site-packages``); the installed ``kubelab-cni``
shim, which asks the daemon first, is the fast path for everyone else.
"""

from __future__ import annotations

import os
import sys

from kubelab_cni.shim import in_process, reply


def main() -> None:
    reply(*in_process(dict(os.environ), sys.stdin.buffer.read()))


if __name__ == "__main__":
    main()
