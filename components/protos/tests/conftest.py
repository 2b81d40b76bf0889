"""Shared fixtures: one cold generation into a temporary folder, inspected in subprocesses.

The protobuf descriptor pool is process-wide, so the test process itself never imports
a stub: each check that imports stubs runs in a fresh interpreter bound to the folder
under test (``kubelab_protos.bind_gen_root``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kubelab_protos.generate import Result, generate

REPORT_SCRIPT = """
import importlib, json, sys
from pathlib import Path
import kubelab_protos
from kubelab_protos.sources import SOURCES

root = kubelab_protos.bind_gen_root(Path(sys.argv[1]))
modules = {}
for source in SOURCES:
    pb2 = importlib.import_module(source.module_name)
    stubs = importlib.import_module(source.grpc_module_name)
    names = list(pb2.DESCRIPTOR.services_by_name)
    wanted = [f"{n}{suffix}" for n in names for suffix in ("Stub", "Servicer")] + [
        f"add_{n}Servicer_to_server" for n in names
    ]
    first = next(iter(pb2.DESCRIPTOR.message_types_by_name))
    message = getattr(pb2, first)()
    modules[source.name] = {
        "file": pb2.__file__,
        "grpc_file": stubs.__file__,
        "descriptor": pb2.DESCRIPTOR.name,
        "package": pb2.DESCRIPTOR.package,
        "services": names,
        "missing": [w for w in wanted if not hasattr(stubs, w)],
        "roundtrip": type(message).FromString(message.SerializeToString()) == message,
    }
print(json.dumps({"root": str(root), "services": kubelab_protos.services(), "modules": modules}))
"""

Python = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def python() -> Python:
    """Run ``python -c CODE ARGS`` in a fresh interpreter of this environment (never raises)."""

    def call(code: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        return subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False
        )

    return call


@pytest.fixture(scope="session")
def inspect_stubs(python: Python) -> Callable[[Path], dict[str, Any]]:
    """Import every stub module generated in a folder; returns what they contain."""

    def run(root: Path) -> dict[str, Any]:
        proc = python(REPORT_SCRIPT, str(root))
        assert proc.returncode == 0, proc.stderr
        report: dict[str, Any] = json.loads(proc.stdout)
        return report

    return run


@pytest.fixture(scope="session")
def cold(tmp_path_factory: pytest.TempPathFactory) -> Result:
    """A cold generation of every source into a fresh folder."""
    return generate(tmp_path_factory.mktemp("cold") / "gen")


@pytest.fixture(scope="session")
def report(cold: Result, inspect_stubs: Callable[[Path], dict[str, Any]]) -> dict[str, Any]:
    return inspect_stubs(cold.out_root)


@pytest.fixture
def copy_of_cold(cold: Result, tmp_path: Path) -> Path:
    """A private copy of the cold generation, safe to regenerate into."""
    target = tmp_path / "gen"
    shutil.copytree(cold.out_root, target)
    return target
