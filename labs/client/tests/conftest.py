"""Fixtures of the chapter 2 lab.

``--impl PATH`` (lab.toml ``[impl] kind = "python-package"``): PATH is a directory that
holds a ``kubelab_client`` package (e.g. ``labs/client/starter``, or your copy of it), or
that package directory itself. The lab kit puts it first on ``sys.path`` before any
checkpoint is imported, so its ``kubelab_client`` shadows the reference one; the
starter's ``__init__.py`` takes the modules it does not define from the reference
package, so you write only what its TODOs ask for. Programs the checkpoints run as
subprocesses get the same path (``run_py``).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kubelab_labkit.impl import Submission

if TYPE_CHECKING:
    from kubelab_client.kube import Api

RunPy = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def api(kubeconfig: Path) -> Iterator[Api]:
    """The admin's client (the kind kubeconfig: CN=kubernetes-admin, O=kubeadm:cluster-admins)."""
    from kubelab_client.kube import Api

    client = Api.from_config(str(kubeconfig))
    yield client
    client.close()


@pytest.fixture(scope="session")
def run_py(impl: Submission | None) -> RunPy:
    """``run_py(*args, timeout=60)``: this interpreter on ``args``, importing the graded kubelab_client."""

    def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        env = impl.env() if impl is not None else None
        return subprocess.run(
            [sys.executable, *args], capture_output=True, text=True, timeout=timeout, check=False, env=env
        )

    return run
