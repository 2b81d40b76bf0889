"""The single pin list, ``cluster/versions.toml``, loaded into a typed model.

Every build step reads versions from here; nothing else in the repository repeats
them. Unknown or missing keys are errors, so a typo in the pin file cannot silently
fall back to a default.
"""

from __future__ import annotations

import os
import tomllib
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Tools(_Strict):
    go: str
    uv: str


class Kubernetes(_Strict):
    version: str
    staging: str


class Components(_Strict):
    kind: str
    cri_tools: str = Field(alias="cri-tools")
    containerd: str
    runc: str
    etcd: str
    coredns: str
    cni_plugins: str = Field(alias="cni-plugins")
    cni: str
    csi_test: str = Field(alias="csi-test")
    csi_spec: str = Field(alias="csi-spec")
    external_provisioner: str = Field(alias="external-provisioner")
    external_resizer: str = Field(alias="external-resizer")
    external_snapshotter: str = Field(alias="external-snapshotter")
    pause: str


class Docs(_Strict):
    mermaid: str


class Pins(_Strict):
    tools: Tools
    kubernetes: Kubernetes
    components: Components
    docs: Docs

    def get(self, dotted: str) -> str:
        """Return a pin by its dotted name as written in the file, e.g. ``components.cri-tools``."""
        section, _, key = dotted.partition(".")
        table = getattr(self, section)
        for name, field in type(table).model_fields.items():
            if key in (name, field.alias):
                value: str = getattr(table, name)
                return value
        raise KeyError(f"no pin {dotted!r} in cluster/versions.toml")


def repo_root() -> Path:
    """The repository root: ``$KUBELAB_ROOT`` or the folder holding ``cluster/versions.toml``."""
    env = os.environ.get("KUBELAB_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "cluster" / "versions.toml").is_file():
            return parent
    cwd = Path.cwd().resolve()
    for parent in (cwd, *cwd.parents):
        if (parent / "cluster" / "versions.toml").is_file():
            return parent
    raise FileNotFoundError("cannot find cluster/versions.toml; set KUBELAB_ROOT to the repository root")


def pin_file() -> Path:
    return Path(os.environ.get("KUBELAB_PINS", repo_root() / "cluster" / "versions.toml"))


def load_pins(path: Path | None = None) -> Pins:
    with open(path or pin_file(), "rb") as fh:
        return Pins.model_validate(tomllib.load(fh))


@cache
def pins() -> Pins:
    """The pins of this checkout (cached for the life of the process)."""
    return load_pins()
