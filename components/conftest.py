"""Fixtures every component's tests may use.

``control_plane``: a real API server without a cluster (envtest: etcd and kube-apiserver from
the toolchain, a cached no-op once built; ``nox -s tests`` builds them first), one per test
session; each test works in namespaces of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kubelab_client.testing.envtest import ControlPlane
from kubelab_cluster.pins import pins
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.build import build


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    p = pins()
    etcd = Path(build(BY_NAME["etcd"], p).binaries["etcd"])
    apiserver = Path(build(BY_NAME["kube-apiserver"], p).binaries["kube-apiserver"])
    with ControlPlane(etcd=etcd, apiserver=apiserver, workdir=tmp_path_factory.mktemp("envtest")) as cp:
        yield cp
