"""The lab kit's pytest plugin (labs/conftest.py loads it): options, fixtures and hints.

Options:

- ``--kubeconfig PATH`` (pytest-kind's): run against an existing cluster instead of the
  kind cluster ``nox -s cluster`` made.
- ``--impl PATH``: a student's implementation; what PATH is comes from the lab's
  ``[impl]`` (:mod:`kubelab_labkit.impl`). Labs without ``[impl]`` refuse it.

- ``--until CHECKPOINT``: stop after that checkpoint (a test function's name).
- ``--student``, ``--report-dir``, ``--report-to URL``, ``--class-token``: the run's report
  (:mod:`kubelab_labkit.reports`), written for every run of one lab, posted to a dashboard.

Checkpoints run in order and stop at the first failure (``maxfail=1``), printing its
hints (:mod:`kubelab_labkit.hints`), for failing fixtures too. The run ends with a table of
every checkpoint (passed, failed, not reached, and the time of each).

Fixtures: ``lab`` (its registry entry), ``impl`` (the checked submission or None),
``external_cluster``, ``kubeconfig``, ``kubectl``, ``kind_cluster``, ``node_containers``,
``lab_image``, ``make_namespace`` (factory) and ``namespace`` (the lab's own:
``kubelab-<lab>``).
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from pytest_kind import KindCluster

from kubelab_cluster.kind.cluster import cluster_name, kubeconfig_path
from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_cluster.pins import pins, repo_root
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.build import build
from kubelab_labkit import hints, images
from kubelab_labkit.impl import ImplError, Submission, activate, reference, resolve
from kubelab_labkit.namespaces import MakeNamespace, Namespaces
from kubelab_labkit.registry import ImplKind, Lab, lab_of_path
from kubelab_labkit.reports import collector, revision

LAB_KEY = pytest.StashKey[Lab | None]()
IMPL_KEY = pytest.StashKey[Submission | None]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kube-dev-lab")
    group.addoption("--impl", default=None, help="a student's implementation to grade (the lab's lab.toml says what)")
    group.addoption(
        "--until", default=None, metavar="CHECKPOINT",
        help="run the checkpoints up to this one (a test function's name) and no further",
    )  # fmt: skip
    collector.add_options(group)


def _labs_in_args(config: pytest.Config) -> list[Lab]:
    found: dict[str, Lab] = {}
    for arg in config.args:
        lab = lab_of_path(Path(str(arg).split("::", 1)[0]))
        if lab is not None:
            found[lab.name] = lab
    return list(found.values())


def pytest_configure(config: pytest.Config) -> None:
    labs = _labs_in_args(config)
    if labs:
        config.option.maxfail = 1  # checkpoints build on each other: stop at the first failure
    config.stash[LAB_KEY] = labs[0] if len(labs) == 1 else None
    config.stash[IMPL_KEY] = None
    given = config.getoption("--impl")
    if given and len(labs) != 1:
        raise pytest.UsageError(
            f"--impl grades one lab; these arguments name {len(labs)} ({[lab.name for lab in labs]})"
        )
    if len(labs) != 1:
        return
    try:
        submission = resolve(labs[0], given) if given else reference(labs[0], repo_root())
        if submission is not None:
            activate(submission)
    except ImplError as exc:
        raise pytest.UsageError(str(exc)) from exc
    config.stash[IMPL_KEY] = submission
    _collect_report(config, labs[0], submission)


def _collect_report(config: pytest.Config, lab: Lab, submission: Submission | None) -> None:
    """Every run of one lab writes its report (:mod:`kubelab_labkit.reports`); a collect-only run does not."""
    if config.getoption("collectonly"):
        return
    path = submission.path if submission is not None else None
    graded = revision.graded(
        reference=submission is None or submission.reference,
        kind=lab.impl.kind.value if lab.impl else None,
        path=path,
        within=submission.packages if submission is not None else (),
        fallback=repo_root(),
    )
    config.pluginmanager.register(collector.Collector(config, lab.name, lab.chapter, graded), "kubelab-report")


def pytest_report_header(config: pytest.Config) -> str | None:
    lab = config.stash.get(LAB_KEY, None)
    if lab is None:
        return None
    submission = config.stash.get(IMPL_KEY, None)
    if submission is not None and submission.reference:
        return (
            f"lab {lab.name}: grading the reference implementation through --impl: {submission.describe()}; "
            f"--impl PATH grades yours: {lab.impl.what if lab.impl else ''}"
        )
    if submission is not None:
        return f"lab {lab.name}: grading your implementation (--impl): {submission.describe()}"
    graded = ", ".join(lab.components) or "the platform"
    if lab.impl is None:
        return f"lab {lab.name}: grading {graded} (this lab takes no --impl)"
    return f"lab {lab.name}: grading the reference implementation ({graded}); --impl PATH grades yours: {lab.impl.what}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--until NAME``: the checkpoints after the last case of the test function NAME are not run."""
    until = config.getoption("--until")
    if not until:
        return
    last = [i for i, item in enumerate(items) if getattr(item, "originalname", item.name) == until]
    if not last:
        raise pytest.UsageError(f"--until {until}: no checkpoint of that name among the {len(items)} collected")
    config.hook.pytest_deselected(items=items[last[-1] + 1 :])
    del items[last[-1] + 1 :]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        found = hints.for_failure(item, call.excinfo, call.when)
        if found:
            report.sections.append((hints.SECTION, "\n".join(found)))
    return report


@pytest.fixture(scope="session")
def lab(request: pytest.FixtureRequest) -> Lab:
    """The lab whose checkpoints run (from the paths given to pytest)."""
    found = request.config.stash.get(LAB_KEY, None)
    if found is None:
        found = lab_of_path(Path(str(request.node.path)))
    if found is None:
        pytest.fail("not inside a lab folder (labs/<name>/)")
    return found


@pytest.fixture(scope="session")
def impl(request: pytest.FixtureRequest) -> Submission | None:
    """The student's implementation (``--impl``), checked; the lab's ``[impl] reference`` when it names
    one and no --impl is given; None when the reference is graded as installed."""
    return request.config.stash.get(IMPL_KEY, None)


@pytest.fixture(scope="session")
def external_cluster(request: pytest.FixtureRequest) -> bool:
    return request.config.getoption("--kubeconfig") is not None


@pytest.fixture(scope="session")
def kubeconfig(request: pytest.FixtureRequest) -> Path:
    """The cluster's kubeconfig (also exported as $KUBECONFIG for subprocesses).

    Hint: run `uv run nox -s cluster` (it prints the kubeconfig), or pass --kubeconfig PATH.
    """
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
def node_containers(kind_cluster: KindCluster | None) -> list[str]:
    """The kind node containers (empty on an external cluster)."""
    if kind_cluster is None:
        return []
    from kubelab_cluster.kind.cluster import Cluster

    return Cluster.for_pins(pins()).node_containers()


@pytest.fixture(scope="session")
def lab_image(node_containers: list[str]) -> str:
    """The lab image (every workspace package on Debian's python3), on every node.

    Hint: `uv run kubelab-images lab` builds it; on the nodes, `docker exec NODE crictl images | grep kubelab`.
    """
    from kubelab_cluster.images.lab import build_lab_image

    ref = build_lab_image()
    return images.deliver(ref, node_containers) if node_containers else ref


@pytest.fixture(scope="session")
def component_image(lab_image: str, impl: Submission | None, node_containers: list[str]) -> str:
    """What a lab's in-cluster component runs: the lab image with the graded package (``impl``, a
    python-package) first on its PYTHONPATH; the lab image itself for other kinds.

    Hint: `docker image ls kubelab/impl`; in a pod, `python3 -c 'import PKG; print(PKG.__file__)'`
    shows which package it imports (the submission's lives under /opt/kubelab/impl).
    """
    if impl is None or impl.kind is not ImplKind.PYTHON_PACKAGE:
        return lab_image
    ref = images.with_package(lab_image, impl)
    return images.deliver(ref, node_containers) if node_containers else ref


@pytest.fixture(scope="session")
def make_namespace(kubectl: Kubectl, lab: Lab) -> Iterator[MakeNamespace]:
    """``make_namespace(name)``: a fresh namespace for this run, deleted at the end of the session."""
    factory = Namespaces(kubectl, lab.name)
    yield factory
    factory.cleanup()


@pytest.fixture(scope="session")
def namespace(make_namespace: MakeNamespace, lab: Lab) -> str:
    """The lab's own namespace, ``kubelab-<lab>``, fresh for each run."""
    return make_namespace(f"kubelab-{lab.name}")
