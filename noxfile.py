"""kube-dev-lab sessions. Thin by design: lab sessions are generated from labs/*/lab.toml.

Run with `uv run nox -l` to list them. Every session shares the project's one
environment (.venv, from uv.lock), so a repeated session installs nothing.
Lab sessions take pytest arguments after `--`, plus `--impl PATH` (run the
checkpoints against a student's implementation) and `--kubeconfig PATH` (use an
existing cluster instead of creating the kind cluster).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nox

ROOT = Path(__file__).parent
sys.path.insert(0, str(ROOT / "cluster"))
from kubelab_cluster.labs import load_labs  # noqa: E402

nox.options.default_venv_backend = "none"
nox.options.sessions = ["lint", "tests"]
nox.options.error_on_missing_interpreters = True

UNIT_TEST_DIRS = ["cluster/tests", *sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("components/*/tests"))]
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
    run(session, "kubelab-host", "packages")
    run(session, "kubelab-toolchain", "build", *session.posargs)


@nox.session
def protos(session: nox.Session) -> None:
    """Generate the Python gRPC stubs (CRI, CSI, kubelet plugin APIs) from the pinned Go modules."""
    sync(session)
    run(session, "kubelab-protos", "generate", *session.posargs)


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
    run(session, "kubelab-host", "setup")
    run(session, "kubelab-toolchain", "build")
    run(session, "kubelab-cluster", "up")


@nox.session(name="cluster-down")
def cluster_down(session: nox.Session) -> None:
    """Delete the kind cluster."""
    sync(session)
    run(session, "kubelab-cluster", "down")


@nox.session
def tests(session: nox.Session) -> None:
    """Unit and integration tests of every package; no cluster needed."""
    sync(session)
    run(session, "kubelab-protos", "generate")
    run(session, "pytest", *UNIT_TEST_DIRS, *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format check) and mypy over the whole repository."""
    sync(session)
    run(session, "ruff", "check", ".")
    run(session, "ruff", "format", "--check", ".")
    run(session, "mypy", "cluster/kubelab_cluster", *[str(p) for p in sorted(ROOT.glob("components/*/kubelab_*"))])


@nox.session(name="bench-cni")
def bench_cni(session: nox.Session) -> None:
    """CNI plugin ADD/DEL latency beside the reference bridge + host-local (root; prints the tables)."""
    sync(session)
    run(session, "kubelab-toolchain", "build")
    run(session, "python", "components/cni/bench/bench_add_del.py", *session.posargs)


PREPARE = {"toolchain": toolchain, "protos": protos, "cluster": cluster}


def run_lab(session: nox.Session, name: str) -> None:
    lab = next(lab for lab in LABS if lab.name == name)
    external = "--kubeconfig" in " ".join(session.posargs)
    for step in lab.prepare:
        if step == "cluster" and external:
            continue
        PREPARE[step](session)
    run(session, "pytest", str(lab.checkpoint_dir.relative_to(ROOT)), *session.posargs)


def _lab_session(name: str, title: str, chapter: int) -> None:
    def lab(session: nox.Session) -> None:
        sync(session)
        run_lab(session, name)

    where = f"Chapter {chapter} lab" if chapter else "Platform lab"
    lab.__doc__ = f"{where}: {title}. Runs its checkpoints (pytest args, --impl, --kubeconfig after --)."
    nox.session(name=f"lab-{name}")(lab)


for _lab in LABS:
    _lab_session(_lab.name, _lab.title, _lab.chapter)


@nox.session
def e2e(session: nox.Session) -> None:
    """Every lab's checkpoints, in chapter order, on one cluster."""
    sync(session)
    for lab in LABS:
        session.log(f"lab {lab.name} (chapter {lab.chapter})")
        run_lab(session, lab.name)
