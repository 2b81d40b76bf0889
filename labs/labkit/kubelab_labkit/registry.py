"""The lab registry: each lab is described once, in ``labs/<name>/lab.toml``.

nox generates a ``lab-<name>`` session from every lab with checkpoints; the README's lab
table and the docs index are generated from the same files (``kubelab-labs table``); the
kit reads ``[impl]`` to know what a student hands in. Unknown keys are errors.
"""

from __future__ import annotations

import enum
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kubelab_cluster.pins import repo_root


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Status(enum.StrEnum):
    DONE = "done"
    IN_PROGRESS = "in progress"
    PLANNED = "planned"


class ImplKind(enum.StrEnum):
    """What a student hands in with ``--impl PATH``."""

    PYTHON_PACKAGE = "python-package"  # a directory holding the package; put first on sys.path
    EXEC_PLUGIN = "exec-plugin"  # an executable file (or a Python package run as one): CNI, credential providers
    GRPC_ENDPOINT = "grpc-endpoint"  # a unix socket (path or unix:// URL) that serves the lab's gRPC API
    IMAGE = "image"  # a container image reference in the local Docker engine


class Impl(_Strict):
    """``[impl]``: how the lab grades a student's code. A lab without it refuses ``--impl``."""

    kind: ImplKind
    what: str = Field(description="what PATH is, in one line, for --help and errors")
    package: str | None = Field(default=None, description="python-package: the package name the PATH must hold")
    also: list[str] = Field(
        default=[],
        description="python-package: more packages the lab grades from the same PATH (a student's PATH holds them "
        "all; the reference directory holds `package`, the others are their installed reference packages)",
    )
    starter: str | None = Field(default=None, description="the exercise skeleton, relative to the repository")
    starter_fails_at: str | None = Field(
        default=None,
        alias="starter-fails-at",
        description="the checkpoint (test function) where the untouched starter must fail, every one before it "
        "passing: `kubelab-labs grade-check` (nox -s grade-check) runs the starter and holds the lab to it",
    )
    reference: str | None = Field(
        default=None,
        description="the reference implementation, relative to the repository: graded through the same --impl "
        "path when no --impl is given, so every run proves the path a student's code takes",
    )

    @model_validator(mode="after")
    def _package_for_python(self) -> Impl:
        if self.kind is ImplKind.PYTHON_PACKAGE and not self.package:
            raise ValueError("[impl] kind = 'python-package' needs package = '<name>'")
        if self.starter and not self.starter_fails_at:
            raise ValueError("[impl] with a starter needs starter-fails-at = '<test function>' (where it must fail)")
        return self


class Starter(_Strict):
    """``[[starter]]``: one starter file generated from a reference module by its solution markers."""

    source: str = Field(description="the reference module, relative to the repository")
    target: str = Field(description="the generated starter module, relative to the repository")


class Chinese(_Strict):
    """``[zh]``: what the Chinese pages' lab table says of the lab (the book is written in Chinese)."""

    title: str = Field(description="the book topic in the book's own terms")
    note: str = Field(default="", description="the note, translated (the English note when empty is left out)")


class Lab(_Strict):
    name: str
    chapter: int = Field(ge=0, le=9, description="book chapter; 0 for platform labs (smoke)")
    title: str = Field(description="the book topic, as the lab table shows it")
    sections: list[str] = Field(description="the book's section numbers the lab covers")
    status: Status
    note: str = Field(default="", description="one line after the status in the lab table (figures, caveats)")
    guide: str | None = Field(default=None, description="the lab's guide, relative to the repository")
    components: list[str] = Field(default=[], description="the component folders the lab grades")
    prepare: list[str] = Field(default=[], description="nox sessions to run before the checkpoints")
    checkpoints: str = "tests"
    issue: int | None = Field(default=None, description="the issue that plans a lab not built yet")
    impl: Impl | None = None
    starter: list[Starter] = []
    zh: Chinese | None = Field(default=None, description="[zh]: the Chinese pages' words (every lab has it)")

    @property
    def directory(self) -> Path:
        return repo_root() / "labs" / self.name

    @property
    def checkpoint_dir(self) -> Path:
        return self.directory / self.checkpoints

    @property
    def runnable(self) -> bool:
        """A lab with checkpoints (a planned lab has a lab.toml and nothing else yet)."""
        return self.status is not Status.PLANNED and self.checkpoint_dir.is_dir()

    @property
    def session(self) -> str:
        return f"lab-{self.name}"


def load_labs(root: Path | None = None) -> list[Lab]:
    """Every lab, in chapter order (platform labs first)."""
    base = (root or repo_root()) / "labs"
    labs = []
    for path in sorted(base.glob("*/lab.toml")):
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        try:
            labs.append(Lab(name=path.parent.name, **data))
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc
    return sorted(labs, key=lambda lab: (lab.chapter, lab.name))


def checkpoint_counts(labs: list[Lab]) -> dict[str, int]:
    """How many checkpoints (parametrized cases included) each runnable lab has, from a
    ``pytest --collect-only`` of each (nothing runs; no cluster is needed).

    One process per lab, as the labs run: in one process the operator lab's package would be
    imported as ``operator`` and shadow the standard library's for every lab collected after it.
    """
    counts = {lab.name: 0 for lab in labs}
    root = repo_root()

    def collect(lab: Lab) -> int:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
             str(lab.checkpoint_dir.relative_to(root))],
            cwd=root, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            raise RuntimeError(
                f"collecting the checkpoints of lab {lab.name} failed:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}"
            )
        return sum(1 for line in proc.stdout.splitlines() if line.startswith("labs/") and "::" in line)

    runnable = [lab for lab in labs if lab.runnable]
    with ThreadPoolExecutor(max_workers=4) as pool:
        counts.update(zip([lab.name for lab in runnable], pool.map(collect, runnable), strict=True))
    return counts


def lab_of_path(path: Path, root: Path | None = None) -> Lab | None:
    """The lab whose folder holds ``path`` (a checkpoint file or folder), if any."""
    base = ((root or repo_root()) / "labs").resolve()
    try:
        rel = path.resolve().relative_to(base)
    except ValueError:
        return None
    if not rel.parts:
        return None
    return next((lab for lab in load_labs(root) if lab.name == rel.parts[0]), None)
