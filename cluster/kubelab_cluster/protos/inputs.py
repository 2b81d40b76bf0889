"""Finding the input .proto files: in the Go module cache at the pinned versions, or overrides.

Each module is located with ``go mod download -json`` (through the toolchain's
:class:`~kubelab_cluster.toolchain.gotool.GoRunner`, so GOMODCACHE and GOTOOLCHAIN are
the repository's); a module already in the cache is not fetched again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kubelab_cluster.pins import Pins, pins
from kubelab_cluster.protos.errors import ProtosError
from kubelab_cluster.protos.sources import BY_NAME, SOURCES, ProtoSource
from kubelab_cluster.toolchain.gotool import GoRunner

PACKAGE_RE = re.compile(rb"^\s*package\s+([\w.]+)\s*;", re.MULTILINE)


@dataclass(frozen=True)
class Input:
    """One .proto file as read for this generation."""

    source: ProtoSource
    version: str  # the pinned module version
    origin: Path  # the file that was read
    overridden: bool
    data: bytes = field(repr=False)

    def describe(self) -> dict[str, str | bool]:
        return {
            "module": self.source.module,
            "version": self.version,
            "origin": str(self.origin),
            "overridden": self.overridden,
        }


def check_overrides(overrides: Mapping[str, Path]) -> None:
    unknown = sorted(set(overrides) - set(BY_NAME))
    if unknown:
        raise ProtosError(
            f"unknown proto source(s) in overrides: {', '.join(unknown)}",
            fix=f"override one of: {', '.join(BY_NAME)}",
        )


def read_input(source: ProtoSource, version: str, origin: Path, overridden: bool) -> Input:
    what = f"the override for {source.name}" if overridden else f"{source.module}@{version}/{source.path}"
    try:
        data = origin.read_bytes()
    except OSError as exc:
        raise ProtosError(
            f"cannot read {what} at {origin}: {exc.strerror or exc}",
            fix="pass an existing .proto file" if overridden else "clear the module from GOMODCACHE and rerun",
        ) from exc
    found = PACKAGE_RE.search(data)
    package = found.group(1).decode() if found else None
    if package != source.proto_package:
        raise ProtosError(
            f"{origin} ({source.name}) declares package {package or '(none)'}, expected {source.proto_package}",
            fix="keep the proto package unchanged: it is the prefix of every gRPC method path "
            f"(/{source.proto_package}.Service/Method)",
        )
    return Input(source, version, origin, overridden, data)


def resolve_inputs(overrides: Mapping[str, Path] | None = None, p: Pins | None = None) -> list[Input]:
    """Every source's file at its pinned version (or its override), read into memory."""
    overrides = overrides or {}
    check_overrides(overrides)
    p = p or pins()
    runner = GoRunner("protos", p.tools.go)
    module_dirs: dict[tuple[str, str], Path] = {}
    inputs = []
    for source in SOURCES:
        version = source.version(p)
        override = overrides.get(source.name)
        if override is not None:
            inputs.append(read_input(source, version, Path(override).resolve(), overridden=True))
            continue
        if (source.module, version) not in module_dirs:
            module_dirs[source.module, version] = Path(runner.module_info(source.module, version)["Dir"])
        origin = module_dirs[source.module, version] / source.path
        inputs.append(read_input(source, version, origin, overridden=False))
    return inputs
