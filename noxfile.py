"""kube-dev-lab sessions. Thin by design: lab sessions are generated from labs/*/lab.toml.

Run with `uv run nox -l` to list them. Every session shares the project's one
environment (.venv, from uv.lock), so a repeated session installs nothing.
Lab sessions pass every argument after `--` to pytest only (never to the build steps they
prepare with), among them `--impl PATH` (grade a student's implementation; what PATH is
comes from the lab's lab.toml, and labs without `[impl]` refuse it) and
`--kubeconfig PATH` (use an existing cluster instead of creating the kind cluster).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nox

ROOT = Path(__file__).parent
sys.path[:0] = [str(ROOT / "cluster"), str(ROOT / "components" / "kit"), str(ROOT / "labs" / "labkit")]
from kubelab_cluster.cache import cache_root, checkout_key  # noqa: E402
from kubelab_cluster.workspace import members  # noqa: E402
from kubelab_labkit.impl import refusal  # noqa: E402
from kubelab_labkit.registry import Lab, load_labs  # noqa: E402

nox.options.default_venv_backend = "none"
nox.options.sessions = ["lint", "tests"]
nox.options.error_on_missing_interpreters = True

MEMBERS = [m.relative_to(ROOT) for m in members(ROOT)]  # the uv workspace's packages (pyproject.toml)
UNIT_TEST_DIRS = [str(m / "tests") for m in MEMBERS if (ROOT / m / "tests").is_dir()]
TYPED_PACKAGES = [str(p.relative_to(ROOT)) for m in MEMBERS for p in sorted((ROOT / m).glob("kubelab_*"))]
LABS = load_labs(ROOT)


def sync(session: nox.Session) -> None:
    """Bring .venv in line with uv.lock (a no-op when nothing changed)."""
    session.run("uv", "sync", "--frozen", "--all-packages", "--quiet", external=True)


def run(session: nox.Session, *args: str) -> None:
    session.run("uv", "run", "--frozen", "--no-sync", *args, external=True)


@nox.session
def toolchain(session: nox.Session) -> None:
    """Build Kubernetes, kind, containerd, runc, etcd, CNI plugins, critest, csi-sanity... from the Go proxy."""
    sync(session)
    build_toolchain(session, *session.posargs)


def build_toolchain(session: nox.Session, *args: str) -> None:
    run(session, "kubelab-host", "packages")
    run(session, "kubelab-toolchain", "build", *args)


@nox.session
def release(session: nox.Session) -> None:
    """Book 1.2's release check for the default set (kubectl): build it a second time from nothing (fresh module
    folder, empty GOCACHE), fail unless its sha256 equals the toolchain's build, then pack a reproducible tar.gz
    with SHA256SUMS into a folder of the cache and print where. Arguments go to `kubelab-toolchain release`."""
    sync(session)
    out = cache_root() / "release" / checkout_key()
    run(session, "kubelab-toolchain", "release", "--rebuild", "--out", str(out), *session.posargs)
    session.log(f"release: {out} (check it: kubelab-toolchain release --verify {out})")


@nox.session
def protos(session: nox.Session) -> None:
    """Generate the Python gRPC stubs (CRI, CSI, kubelet plugin APIs) from the pinned Go modules."""
    sync(session)
    generate_protos(session, *session.posargs)


def generate_protos(session: nox.Session, *args: str) -> None:
    run(session, "kubelab-protos", "generate", *args)


@nox.session
def host(session: nox.Session) -> None:
    """Install the Debian packages the builds need, set up the Docker engine (and the capability wrapper)."""
    sync(session)
    run(session, "kubelab-host", "setup")


@nox.session
def images(session: nox.Session) -> None:
    """Build the kind node image with every control-plane image preloaded (no registry)."""
    sync(session)
    run(session, "kubelab-host", "packages")
    run(session, "kubelab-images", "node")


@nox.session
def cluster(session: nox.Session) -> None:
    """Create the kind cluster of cluster/kind.yaml, or reuse a healthy one; prints the kubeconfig."""
    sync(session)
    start_cluster(session)


def start_cluster(session: nox.Session) -> None:
    run(session, "kubelab-host", "setup")
    build_toolchain(session)
    run(session, "kubelab-cluster", "up")


@nox.session(name="cluster-down")
def cluster_down(session: nox.Session) -> None:
    """Delete the kind cluster."""
    sync(session)
    run(session, "kubelab-cluster", "down")


@nox.session
def tests(session: nox.Session) -> None:
    """Unit and integration tests of every package; no cluster needed (envtest's etcd and kube-apiserver come
    from the toolchain: a cached no-op once built)."""
    sync(session)
    run(session, "kubelab-host", "packages")  # the tools the tests run: btrfs-progs, openssl, chromium
    generate_protos(session)
    run(session, "kubelab-toolchain", "build", "etcd", "kube-apiserver")
    run(session, "pytest", *UNIT_TEST_DIRS, *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, mypy, the import rules, and generated files (starters, lab table, CRD) against their sources."""
    sync(session)
    run(session, "ruff", "check", ".")
    run(session, "ruff", "format", "--check", ".")
    run(session, "mypy", *TYPED_PACKAGES)
    run(session, "lint-imports")
    run(session, "kubelab-labs", "starters", "--check")
    run(session, "kubelab-labs", "table", "--check")
    run(session, "kubelab-operator", "generate", "--check")


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site, English and Chinese: every page has its translation with the same code blocks,
    mkdocs builds it strictly (a broken link or anchor fails), and headless chromium checks the home page, a
    chapter page in each language, the language switch and the search box (screenshots in the cache)."""
    sync(session)
    run(session, "kubelab-docs", "check", *session.posargs)


@nox.session(name="docs-serve")
def docs_serve(session: nox.Session) -> None:
    """Serve the documentation site with live reload (http://127.0.0.1:8000; `-- --address HOST:PORT`)."""
    sync(session)
    run(session, "kubelab-docs", "serve", *session.posargs)


@nox.session
def dashboard(session: nox.Session) -> None:
    """The instructor dashboard (FastAPI): lab runs started with `--report-to URL --class-token TOKEN` post their
    reports; a live grid of students x checkpoints per lab, who is stuck where, CSV export. Arguments go to
    `kubelab-dashboard serve` (e.g. `-- --class k8s-101=TOKEN --port 8787`)."""
    sync(session)
    run(session, "kubelab-dashboard", "serve", *session.posargs)


@nox.session
def starters(session: nox.Session) -> None:
    """Regenerate every lab's starter from the reference's solution markers (lint checks them)."""
    sync(session)
    run(session, "kubelab-labs", "starters")


@nox.session
def generate(session: nox.Session) -> None:
    """Regenerate every generated file that is committed: starters, the lab table (README.md, docs/index.md)
    and the operator's CRD (from its Python types)."""
    sync(session)
    run(session, "kubelab-labs", "starters")
    run(session, "kubelab-labs", "table")
    run(session, "kubelab-operator", "generate")


@nox.session(name="bench-cni")
def bench_cni(session: nox.Session) -> None:
    """CNI plugin ADD/DEL latency beside the reference bridge + host-local (root; prints the tables)."""
    sync(session)
    run(session, "kubelab-toolchain", "build")
    run(session, "python", "components/cni/bench/bench_add_del.py", *session.posargs)


@nox.session
def critest(session: nox.Session) -> None:
    """critest (cri-tools) against kubelab-cri on this host, offline: test images rebuilt from busybox in a local
    registry, the runtime on a socket of its own (root; prints passed/failed/skipped per group, the skip reasons
    and the failures; fails below the pass-rate threshold). Arguments go to the runner: --focus REGEX, --keep."""
    sync(session)
    run(session, "kubelab-host", "packages")
    generate_protos(session)
    run(session, "kubelab-toolchain", "build", "critest", "crictl", "runc", "cni-plugins")
    run(session, "python", "components/cri/conformance/critest_run.py", *session.posargs)


@nox.session(name="csi-sanity")
def csi_sanity(session: nox.Session) -> None:
    """csi-sanity (csi-test) against kubelab-csi on this host, for mount and then block volumes, each on a
    scratch btrfs pool (root; prints passed/failed/skipped per group and what was left behind; fails on any
    failure or leak). Arguments go to the runner: --focus REGEX, --access-type mount|block."""
    sync(session)
    run(session, "kubelab-host", "packages")
    generate_protos(session)
    run(session, "kubelab-toolchain", "build", "csi-sanity")
    run(session, "python", "components/csi/conformance/csi_sanity_run.py", *session.posargs)


@nox.session(name="csi-e2e")
def csi_e2e(session: nox.Session) -> None:
    """Kubernetes' external storage tests (e2e.test from the toolchain) against kubelab-csi on the cluster:
    every spec of the driver that is neither disruptive nor serial (the CSI lab's checkpoint 11 runs one per
    pattern). Prints passed/failed/skipped per group; arguments go to pytest (e.g. --impl PATH)."""
    sync(session)
    start_cluster(session)
    session.run(
        "uv", "run", "--frozen", "--no-sync", "pytest", "labs/csi/tests/test_01_driver.py",
        "labs/csi/tests/test_11_storage_e2e.py", "-s", *session.posargs, env={"KUBELAB_CSI_E2E": "full"}, external=True,
    )  # fmt: skip


@nox.session(name="bench-csi")
def bench_csi(session: nox.Session) -> None:
    """kubelab-csi: CreateVolume, NodeStage/Publish latency on this host (root), then 10 pods each with a new
    claim on the cluster beside 10 emptyDir pods, create to Running (prints the tables; the driver goes after)."""
    sync(session)
    start_cluster(session)
    generate_protos(session)
    run(session, "python", "components/csi/bench/bench_csi.py", *session.posargs)


@nox.session(name="bench-operator")
def bench_operator(session: nox.Session) -> None:
    """The CronJob operator on the cluster: admission latency (webhooks, ValidatingAdmissionPolicy, neither) at
    a fixed rate, 500 CronJobs to status, Jobs per run beside kube-controller-manager, memory (prints the tables)."""
    sync(session)
    start_cluster(session)
    run(session, "python", "components/operator/bench/bench_operator.py", *session.posargs)


@nox.session(name="bench-apiserver")
def bench_apiserver(session: nox.Session) -> None:
    """Books through kube-apiserver: the aggregated server beside the same resource as a CRD (create, get,
    list p50/p99), and one GET with and without the webhook callouts of 7.1/7.2 (prints the tables)."""
    sync(session)
    start_cluster(session)
    run(session, "python", "components/apiserver/bench/bench_apiserver.py", *session.posargs)


@nox.session(name="bench-scheduler")
def bench_scheduler(session: nox.Session) -> None:
    """kubelab-scheduler beside kube-scheduler 1.37 on the cluster, same client limits: pods bound per second
    for 200 and 1,000 pods (5 runs, median), a gang of 50 (prints the table)."""
    sync(session)
    start_cluster(session)
    run(session, "python", "components/scheduler/bench/bench_scheduler.py", *session.posargs)


@nox.session(name="bench-cri")
def bench_cri(session: nox.Session) -> None:
    """Pods on kubelab-cri beside pods on containerd in the same cluster: create-to-Running for 20
    pods (3 runs, median) and each runtime's memory (prints the tables); the node goes back after."""
    sync(session)
    start_cluster(session)
    run(session, "python", "components/cri/bench/bench_cri.py", *session.posargs)


PREPARE = {"toolchain": build_toolchain, "protos": generate_protos, "cluster": start_cluster}


def run_lab(session: nox.Session, lab: Lab) -> None:
    """Prepare (without the session's arguments: those are pytest's), then run the checkpoints."""
    args = session.posargs
    if lab.impl is None and any(a == "--impl" or a.startswith("--impl=") for a in args):
        session.error(refusal(lab))
    external = any(a == "--kubeconfig" or a.startswith("--kubeconfig=") for a in args)
    for step in lab.prepare:
        if step == "cluster" and external:
            continue
        PREPARE[step](session)
    run(session, "pytest", str(lab.checkpoint_dir.relative_to(ROOT)), *args)


def _lab_session(lab: Lab) -> None:
    def session_func(session: nox.Session) -> None:
        sync(session)
        run_lab(session, lab)

    where = f"Chapter {lab.chapter} lab" if lab.chapter else "Platform lab"
    impl = f"--impl: {lab.impl.kind.value}" if lab.impl else "no --impl"
    session_func.__doc__ = f"{where}: {lab.title}. Runs its checkpoints (pytest args after --; {impl})."
    nox.session(name=lab.session)(session_func)


for _lab in LABS:
    if _lab.runnable:
        _lab_session(_lab)


@nox.session(name="grade-check")
def grade_check(session: nox.Session) -> None:
    """Does each lab grade the student's code? Every lab with a starter runs on its untouched starter up to the
    checkpoint its lab.toml names ([impl] starter-fails-at) and must fail exactly there, with that checkpoint's
    hint (prints a table). Arguments: lab names (default: all of them)."""
    sync(session)
    for step in dict.fromkeys(s for lab in LABS if lab.impl and lab.impl.starter for s in lab.prepare):
        PREPARE[step](session)
    run(session, "kubelab-labs", "grade-check", *session.posargs)


@nox.session
def e2e(session: nox.Session) -> None:
    """Every lab's checkpoints, in chapter order, on one cluster; after each, the cluster must be as the lab
    found it (`kubelab-cluster status`: no swapped component left, the configuration's files in place), and at
    the end the smoke lab runs again on it."""
    sync(session)
    for lab in LABS:
        if lab.runnable:
            session.log(f"lab {lab.name} (chapter {lab.chapter})")
            run_lab(session, lab)
            run(session, "kubelab-cluster", "status")
    session.log("lab smoke again: the cluster serves as before the labs")
    run_lab(session, next(lab for lab in LABS if lab.name == "smoke"))
