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
import subprocess
from pathlib import Path

import pytest
from pytest_kind import KindCluster

from kubelab_cluster.kind.cluster import cluster_name, kubeconfig_path
from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_cluster.pins import pins
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.build import build


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
    """The lab image, on every node of the kind cluster (an external cluster must pull it itself).

    It goes through the cluster's local registry (push, then every node pulls in
    parallel): measured faster than ``kind load`` here, and only changed layers travel
    (cluster/bench/bench_image_delivery.py, docs/cluster.md). Pods may use
    ``imagePullPolicy: Never`` or ``IfNotPresent``.
    """
    from concurrent.futures import ThreadPoolExecutor

    from kubelab_cluster.images.lab import build_lab_image
    from kubelab_cluster.kind.registry import ensure_registry, push

    ref = build_lab_image()
    if kind_cluster is None:
        return ref
    nodes = subprocess.run(
        [str(kind_cluster.kind_path), "get", "nodes", "--name", kind_cluster.name],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    ensure_registry(nodes)
    target = push(ref)

    def pull(node: str) -> None:
        subprocess.run(["docker", "exec", node, "crictl", "pull", target], capture_output=True, check=True)

    with ThreadPoolExecutor(len(nodes)) as pool:
        list(pool.map(pull, nodes))
    return target
