"""``--impl PATH``: what a student hands in, checked and located once, per the lab's ``[impl] kind``.

The lab's ``lab.toml`` says what PATH is (``[impl] kind``, ``what``); a lab without
``[impl]`` refuses ``--impl`` instead of silently grading the reference. Per kind:

- ``python-package``: a directory holding the package (or the package directory itself), and
  the lab's ``also`` packages beside it. It is put first on ``sys.path`` before any checkpoint
  is imported, so it shadows the reference packages; :meth:`Submission.env` gives subprocesses
  the same path. The reference directory holds only ``package``: the others are graded from
  their installed reference, while a student's PATH must hold them all.
- ``exec-plugin``: an executable file, or a Python package directory with ``__main__.py``.
- ``grpc-endpoint``: a unix socket, as a path or a ``unix://`` URL (read as the gRPC scaffold reads
  endpoints); it must exist and be a socket.
- ``image``: a reference to an image in the local Docker engine.
"""

from __future__ import annotations

import dataclasses
import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from kubelab_labkit.registry import ImplKind, Lab
from kubelab_labkit.reports.revision import files_digest


class ImplError(ValueError):
    """``--impl`` cannot be used as given; the message says why and what PATH should be."""


@dataclass(frozen=True)
class Submission:
    """A student's implementation, checked: ``path`` for files and sockets, ``ref`` as given."""

    kind: ImplKind
    ref: str
    path: Path | None = None
    package: str | None = None
    also: tuple[str, ...] = ()  # the lab's other graded packages found beside ``package``
    reference: bool = False  # the lab's own reference, graded through this same path

    @property
    def packages(self) -> tuple[str, ...]:
        """Every package this submission brings (python-package), ``package`` first."""
        return (self.package, *self.also) if self.package else ()

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """An environment for subprocesses that import the student's package first (python-package)."""
        env = dict(os.environ if base is None else base)
        if self.kind is ImplKind.PYTHON_PACKAGE and self.path is not None:
            env["PYTHONPATH"] = os.pathsep.join(p for p in (str(self.path), env.get("PYTHONPATH", "")) if p)
        return env

    def describe(self) -> str:
        return f"{self.kind.value} {self.path or self.ref}"

    @property
    def key(self) -> str:
        """A content key of a python-package submission (its files: names and bytes); its image is keyed by it."""
        if self.kind is not ImplKind.PYTHON_PACKAGE or self.path is None or not self.package:
            return self.ref
        return files_digest(self.path, self.packages, length=12)


def refusal(lab: Lab) -> str:
    return (
        f"lab-{lab.name} takes no --impl: its checkpoints grade {', '.join(lab.components) or 'the platform itself'}, "
        "and there is no student implementation to hand in (refused so that it never silently grades the reference)"
    )


def reference(lab: Lab, root: Path) -> Submission | None:
    """The lab's reference as a submission (``[impl] reference``), or None when the lab names none."""
    if lab.impl is None or lab.impl.reference is None:
        return None
    try:
        found = resolve(lab, str(root / lab.impl.reference), whole=False)
    except ImplError as exc:
        raise ImplError(f"lab {lab.name}: its [impl] reference {lab.impl.reference!r} is unusable: {exc}") from exc
    return dataclasses.replace(found, reference=True)


def resolve(lab: Lab, given: str, *, whole: bool = True) -> Submission:
    """Check ``given`` against the lab's ``[impl]``; raises :class:`ImplError` with what PATH should be.

    ``whole``: a python-package PATH must hold the lab's ``also`` packages too (not so the reference's).
    """
    if lab.impl is None:
        raise ImplError(refusal(lab))
    kind, what = lab.impl.kind, lab.impl.what
    if lab.impl.starter:
        what += f"; start from the starter, {lab.impl.starter}"
    if kind is ImplKind.IMAGE:
        proc = subprocess.run(["docker", "image", "inspect", given], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise ImplError(f"--impl {given}: no such image in the local Docker engine (it should be {what})")
        return Submission(kind, given)
    if kind is ImplKind.GRPC_ENDPOINT:
        from kubelab_kit.grpc.socket import socket_path  # here: noxfile.py imports this module, grpc is slow to load

        path = socket_path(given).resolve()
    else:
        path = Path(given).resolve()
    if not path.exists():
        raise ImplError(f"--impl {given}: no such file or directory (it should be {what})")
    if kind is ImplKind.PYTHON_PACKAGE:
        package = lab.impl.package or ""
        root = path.parent if path.name == package else path
        missing = [p for p in (package, *lab.impl.also) if not (root / p / "__init__.py").is_file()]
        if package in missing or (whole and missing):
            raise ImplError(f"--impl {given}: no {' or '.join(missing)} package in {root} (it should be {what})")
        also = tuple(p for p in lab.impl.also if p not in missing)
        return Submission(kind, given, root, package, also)
    if kind is ImplKind.EXEC_PLUGIN:
        if path.is_dir():
            if not (path / "__init__.py").is_file() or not (path / "__main__.py").is_file():
                raise ImplError(f"--impl {given}: a package directory needs __init__.py and __main__.py ({what})")
        elif not os.access(path, os.X_OK):
            raise ImplError(f"--impl {given}: not executable (chmod +x it; it should be {what})")
        return Submission(kind, given, path)
    if not stat.S_ISSOCK(path.stat().st_mode):
        raise ImplError(f"--impl {given}: not a unix socket (it should be {what})")
    return Submission(kind, given, path)


def activate(submission: Submission) -> Path | None:
    """Make this process import the submission (python-package); returns where its package now comes from."""
    if submission.kind is not ImplKind.PYTHON_PACKAGE or submission.path is None or not submission.package:
        return None
    for package in submission.packages:
        for name in [m for m in sys.modules if m == package or m.startswith(f"{package}.")]:
            del sys.modules[name]
    sys.path.insert(0, str(submission.path))
    for package in submission.packages:
        module = __import__(package)
        found = Path(module.__file__ or "").resolve().parent
        if found != submission.path / package:
            raise ImplError(f"--impl {submission.ref}: imported {package} from {found}, not from {submission.path}")
    return submission.path / submission.package
