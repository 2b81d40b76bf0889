"""The lab registry: each lab is described once, in ``labs/<name>/lab.toml``.

nox generates a ``lab-<name>`` session from every entry; the docs table and the
checkpoint runner read the same files.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from kubelab_cluster.pins import repo_root


class Lab(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    chapter: int = Field(ge=0, le=9, description="book chapter; 0 for platform labs (smoke)")
    title: str
    sections: list[str]
    status: str = Field(pattern=r"^(done|in progress|planned)$")
    components: list[str] = []
    prepare: list[str] = Field(default=[], description="nox sessions that must run before the checkpoints")
    cluster: bool = Field(default=False, description="whether the checkpoints need the kind cluster")
    checkpoints: str = "tests"

    @property
    def directory(self) -> Path:
        return repo_root() / "labs" / self.name

    @property
    def checkpoint_dir(self) -> Path:
        return self.directory / self.checkpoints


def load_labs(root: Path | None = None) -> list[Lab]:
    base = (root or repo_root()) / "labs"
    labs = []
    for path in sorted(base.glob("*/lab.toml")):
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        labs.append(Lab(name=path.parent.name, **data))
    return sorted(labs, key=lambda lab: (lab.chapter, lab.name))
