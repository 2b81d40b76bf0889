"""Using the generated stubs: where they are, a clear error when they are not, and what they serve.

Import the stubs directly, e.g. ``from kubelab_protos.gen.cri.v1 import api_pb2, api_pb2_grpc``.
When ``gen/`` has not been generated that import fails with :class:`StubsMissingError`,
which says how to generate it, instead of a bare "No module named ...".

A folder is generated when it holds the package's ``__init__.py`` (see :func:`is_generated`).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

from kubelab_protos.layout import GEN_DIR, GEN_PACKAGE, HINT


class StubsMissingError(ModuleNotFoundError):
    """The generated stubs (or one module of them) are not there."""


def gen_root() -> Path:
    """The folder ``kubelab_protos.gen`` is (or will be) imported from in this process."""
    module = sys.modules.get(GEN_PACKAGE)
    if module is not None and getattr(module, "__path__", None):
        return Path(next(iter(module.__path__)))
    return GEN_DIR


def stub_modules(root: Path | None = None) -> list[str]:
    """The generated ``*_pb2`` module names under ``root``, sorted."""
    root = root or gen_root()
    names = (p.relative_to(root).with_suffix("").parts for p in root.rglob("*_pb2.py"))
    return sorted(".".join((GEN_PACKAGE, *parts)) for parts in names)


def is_generated(root: Path) -> bool:
    """True when ``root`` is a generated ``kubelab_protos.gen``: the generator writes its ``__init__.py`` last."""
    return (root / "__init__.py").is_file()


def missing_stubs(fullname: str, root: Path | None = None) -> StubsMissingError:
    root = root or gen_root()
    if not is_generated(root):
        message = f"cannot import {fullname}: the gRPC stubs are not generated in {root}; {HINT}"
    else:
        known = ", ".join(stub_modules(root)) or "none"
        message = f"{fullname} is not a generated stub module (in {root}; generated: {known}); {HINT} after changes"
    return StubsMissingError(message, name=fullname)


def require_gen(root: Path | None = None) -> Path:
    """Return the stubs folder, or raise :class:`StubsMissingError` saying how to generate it."""
    root = root or gen_root()
    if not is_generated(root):
        raise missing_stubs(GEN_PACKAGE, root)
    return root


def bind_gen_root(root: Path) -> Path:
    """Import ``kubelab_protos.gen`` from ``root`` (e.g. ``kubelab-protos generate --out DIR``) in this process.

    The protobuf descriptor pool is process-wide, so a process uses one generation:
    call this before importing any stub; binding another folder later is an error.
    """
    root = require_gen(root.resolve())
    current = sys.modules.get(GEN_PACKAGE)
    if current is not None:
        if gen_root().resolve() != root:
            raise RuntimeError(f"{GEN_PACKAGE} is already imported from {gen_root()}; use a new process for {root}")
        return root
    spec = importlib.util.spec_from_file_location(
        GEN_PACKAGE, root / "__init__.py", submodule_search_locations=[str(root)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[GEN_PACKAGE] = module
    spec.loader.exec_module(module)
    return root


def services(root: Path | None = None) -> dict[str, list[str]]:
    """{full service name: [full method path, ...]} from the generated descriptors.

    e.g. ``{"runtime.v1.RuntimeService": ["/runtime.v1.RuntimeService/Version", ...], ...}``
    """
    root = bind_gen_root(root) if root else require_gen()
    found: dict[str, list[str]] = {}
    for name in stub_modules(root):
        descriptor = importlib.import_module(name).DESCRIPTOR
        for service in descriptor.services_by_name.values():
            found[service.full_name] = [f"/{service.full_name}/{method.name}" for method in service.methods]
    return found


class _MissingStubsFinder(importlib.abc.MetaPathFinder):
    """Last on ``sys.meta_path``: only asked about ``kubelab_protos.gen.*`` names nothing else found."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname == GEN_PACKAGE or fullname.startswith(f"{GEN_PACKAGE}."):
            raise missing_stubs(fullname)
        return None


def install_import_hint() -> None:
    if not any(type(f).__name__ == _MissingStubsFinder.__name__ for f in sys.meta_path):
        sys.meta_path.append(_MissingStubsFinder())
