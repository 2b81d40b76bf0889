"""A running aggregated server (SQLite storage) and kubectl from the toolchain."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubelab_apiserver.testing import Running, running_server
from kubelab_cluster.pins import pins
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.build import build


@pytest.fixture(scope="module")
def aggregated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("aggregated")
    with running_server(root, storage_url=f"sqlite://{root / 'store.db'}", bookmark_every=1.0) as running:
        yield running


@pytest.fixture(scope="session")
def kubectl_binary() -> Path:
    return Path(build(BY_NAME["kubectl"], pins()).binaries["kubectl"])


class Kubectl:
    def __init__(self, binary: Path, kubeconfig: Path) -> None:
        self.binary, self.kubeconfig = binary, kubeconfig

    def run(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            # a discovery cache of its own: a port reused from an earlier control plane is another server
            [
                str(self.binary),
                f"--kubeconfig={self.kubeconfig}",
                f"--cache-dir={self.kubeconfig.parent / 'kubectl-cache'}",
                *args,
            ],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({done.returncode}):\n{done.stderr}{done.stdout}")
        return done

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "-o", "json").stdout)


@pytest.fixture(scope="module")
def kubectl(aggregated: Running, kubectl_binary: Path) -> Kubectl:
    return Kubectl(kubectl_binary, aggregated.kubeconfig("admin"))
