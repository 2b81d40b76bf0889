"""Generate the Python gRPC stubs into the stubs package's ``gen/`` (or any folder), cached by content."""

from __future__ import annotations

import fcntl
import hashlib
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

from kubelab_cluster.cache import cache_root, content_key
from kubelab_cluster.pins import pins, repo_root
from kubelab_cluster.protos.assets import assets_key, resolve_assets, write_assets
from kubelab_cluster.protos.inputs import Input, resolve_inputs
from kubelab_cluster.protos.install import install
from kubelab_cluster.protos.protoc import compile_protos
from kubelab_cluster.protos.stamp import input_key, is_current, read_stamp, stamped_files, tool_versions, write_stamp
from kubelab_cluster.toolchain.gotool import GoRunner

# The stubs package's folder for generated code, in the checkout (gitignored, shipped in its wheel).
STUBS_GEN_DIR = "components/protos/kubelab_protos/gen"


@dataclass(frozen=True)
class Result:
    out_root: Path  # the folder that is the package ``kubelab_protos.gen``
    key: str  # sha256 of the inputs and tool versions (see stamp.py)
    cached: bool  # True: the folder already held this generation and nothing was touched
    inputs: tuple[Input, ...]
    files: tuple[str, ...]  # every generated file, relative to out_root (empty when cached)
    written: tuple[str, ...]  # the files whose contents changed (new or rewritten)
    removed: tuple[str, ...]  # files of the previous generation that no longer exist
    seconds: float


def default_out_root() -> Path:
    """``components/protos/kubelab_protos/gen`` of this checkout: where ``import kubelab_protos.gen`` looks."""
    return repo_root() / STUBS_GEN_DIR


@contextmanager
def _locked(out_root: Path) -> Iterator[None]:
    """One generator at a time per output folder (the lock lives in the cache, not the tree)."""
    lock = cache_root() / "protos" / "locks" / f"{content_key(str(out_root))}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def generate(
    out_root: Path | None = None, overrides: Mapping[str, Path] | None = None, *, force: bool = False
) -> Result:
    """Generate stubs for every source into ``out_root`` (default :func:`default_out_root`).

    ``overrides`` maps a source name (see :data:`kubelab_cluster.protos.sources.SOURCES`) to a
    .proto file used instead of the pinned one. Nothing is done when ``out_root``
    already holds the generation for the same inputs, unless ``force``.
    """
    started = time.monotonic()
    out_root = (out_root or default_out_root()).resolve()
    inputs = tuple(resolve_inputs(overrides))
    p = pins()
    assets = resolve_assets(GoRunner("protos", p.tools.go), p)
    tools = tool_versions()
    key = hashlib.sha256(f"{input_key(inputs, tools)}\0{assets_key(assets)}".encode()).hexdigest()
    with _locked(out_root):
        if not force and is_current(out_root, key):
            return Result(out_root, key, True, inputs, (), (), (), time.monotonic() - started)
        previous = stamped_files(read_stamp(out_root))
        with TemporaryDirectory(prefix="kubelab-protos-") as tmp:
            fresh = compile_protos(inputs, Path(tmp))
            write_assets(assets, fresh)
            files, written, removed = install(fresh, out_root, previous)
        write_stamp(out_root, key, tools, inputs, files)
    return Result(
        out_root, key, False, inputs, tuple(files), tuple(written), tuple(removed), time.monotonic() - started
    )
