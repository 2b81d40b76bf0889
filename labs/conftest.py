"""Shared by every lab's checkpoints: the cluster to test against and the options
that grade a student's implementation instead of the reference one.

- ``--kubeconfig PATH`` (pytest-kind's option): run against an existing cluster
  (default: the kind cluster that ``nox -s cluster`` made).
- ``--impl PATH``: the student's implementation (each lab says what PATH is).

Checkpoints run in order and stop at the first failure, printing its hint: the
first line of the test's docstring that starts with ``Hint:``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from kubelab_cluster.kind.cluster import cluster_name, kubeconfig_path
from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_cluster.pins import pins
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.build import build
from pytest_kind import KindCluster


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kube-dev-lab")
    group.addoption("--impl", default=None, help="path to a student's implementation to grade")


def pytest_configure(config: pytest.Config) -> None:
    # Checkpoints build on each other: stop at the first failure.
    config.option.maxfail = 1


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.when == "call":
        doc = getattr(getattr(item, "function", None), "__doc__", "") or ""
        hints = [line.strip() for line in doc.splitlines() if line.strip().startswith("Hint:")]
        if hints:
            report.sections.append(("checkpoint hint", "\n".join(hints)))


@pytest.fixture(scope="session")
def external_cluster(request: pytest.FixtureRequest) -> bool:
    return request.config.getoption("--kubeconfig") is not None


@pytest.fixture(scope="session")
def kubeconfig(request: pytest.FixtureRequest) -> Path:
    given = request.config.getoption("--kubeconfig")
    path = Path(given) if given else kubeconfig_path()
    if not path.is_file():
        pytest.exit(f"no kubeconfig at {path}: run `uv run nox -s cluster` or pass --kubeconfig", returncode=2)
    os.environ["KUBECONFIG"] = str(path)
    return path


@pytest.fixture(scope="session")
def kubectl(kubeconfig: Path) -> Kubectl:
    return Kubectl(build(BY_NAME["kubectl"], pins()).binaries["kubectl"], kubeconfig)


@pytest.fixture(scope="session")
def kind_cluster(kubeconfig: Path, external_cluster: bool) -> KindCluster | None:
    """pytest-kind's handle on our kind cluster (toolchain kind and kubectl; nothing downloaded).

    ``nox -s cluster`` created it (or found it healthy); here we only attach to it.
    """
    if external_cluster:
        return None
    p = pins()
    return KindCluster(
        cluster_name(),
        kubeconfig=kubeconfig,
        kind_path=build(BY_NAME["kind"], p).binaries["kind"],
        kubectl_path=build(BY_NAME["kubectl"], p).binaries["kubectl"],
    )


@pytest.fixture(scope="session")
def lab_image(kind_cluster: KindCluster | None) -> str:
    """The lab image, loaded into the kind cluster's nodes (an external cluster must pull it itself)."""
    from kubelab_cluster.images.lab import build_lab_image

    ref = build_lab_image()
    if kind_cluster is not None:
        kind_cluster.load_docker_image(ref)
    return ref
