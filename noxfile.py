"""kube-dev-lab sessions. Thin by design: lab sessions are generated from labs/*/lab.toml.

Run with `uv run nox -l` to list them. Every session shares the project's one
environment (.venv, from uv.lock), so a repeated session installs nothing.
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


def sync(session: nox.Session) -> None:
    """Bring .venv in line with uv.lock (a no-op when nothing changed)."""
    session.run("uv", "sync", "--frozen", "--all-packages", "--quiet", external=True)


def run(session: nox.Session, *args: str) -> None:
    session.run("uv", "run", "--frozen", "--no-sync", *args, external=True)


@nox.session
def toolchain(session: nox.Session) -> None:
    """Build Kubernetes, kind, containerd, runc, etcd, CNI plugins, critest, csi-sanity... from the Go proxy."""
    sync(session)
    run(session, "kubelab-toolchain", "build", *session.posargs)


@nox.session
def protos(session: nox.Session) -> None:
    """Generate the Python gRPC stubs (CRI, CSI, kubelet plugin APIs) from the pinned Go modules."""
    sync(session)
    run(session, "kubelab-protos", "generate", *session.posargs)


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
    run(session, "mypy", "cluster/kubelab_cluster", *[str(p) for p in ROOT.glob("components/*/kubelab_*")])


PREPARE = {"toolchain": toolchain, "protos": protos}


def _lab_session(name: str, title: str, chapter: int, prepare: list[str], checkpoint_dir: str) -> None:
    def lab(session: nox.Session) -> None:
        sync(session)
        for step in prepare:
            PREPARE[step](session)
        run(session, "pytest", checkpoint_dir, *session.posargs)

    lab.__doc__ = f"Chapter {chapter} lab: {title}. Runs its checkpoints (pass pytest args after --)."
    nox.session(name=f"lab-{name}")(lab)


for _lab in load_labs(ROOT):
    _lab_session(_lab.name, _lab.title, _lab.chapter, _lab.prepare, str(_lab.checkpoint_dir.relative_to(ROOT)))
