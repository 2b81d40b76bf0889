"""Shared fixtures of the stubs generator's tests (``test_protos_*``): one cold generation into a
temporary folder, inspected in subprocesses.

The protobuf descriptor pool is process-wide, so the test process itself never imports
a stub: each check that imports stubs runs in a fresh interpreter that registers the
folder under test as the package ``kubelab_protos.gen`` by file path, as
:mod:`kubelab_cluster.protos.descriptors` does (the cluster package never imports the
stubs package ``kubelab_protos``, and neither do its tests).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kubelab_cluster.protos.generate import Result, generate
from kubelab_kit.testing import run_python

# argv: the generated folder. Registers it as kubelab_protos.gen, imports every source's stubs.
REPORT_SCRIPT = """
import importlib, importlib.util, json, sys
from pathlib import Path
from kubelab_cluster.protos.sources import GEN_PACKAGE, SOURCES

root = Path(sys.argv[1]).resolve()
spec = importlib.util.spec_from_file_location(GEN_PACKAGE, root / "__init__.py", submodule_search_locations=[str(root)])
sys.modules[GEN_PACKAGE] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sys.modules[GEN_PACKAGE])
modules = {}
services = {}
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
    for service in pb2.DESCRIPTOR.services_by_name.values():
        services[service.full_name] = [f"/{service.full_name}/{m.name}" for m in service.methods]
loaded = sorted(m for m in sys.modules if m == "kubelab_protos" or m.startswith("kubelab_protos."))
print(json.dumps({"root": str(root), "services": services, "modules": modules, "loaded": loaded}))
"""

Python = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def fresh_python() -> Python:
    """Run ``python -c CODE ARGS`` in a fresh interpreter of this environment (never raises)."""
    return run_python


@pytest.fixture(scope="session")
def inspect_stubs(fresh_python: Python) -> Callable[[Path], dict[str, Any]]:
    """Import every stub module generated in a folder; returns what they contain."""

    def run(root: Path) -> dict[str, Any]:
        proc = fresh_python(REPORT_SCRIPT, str(root))
        assert proc.returncode == 0, proc.stderr
        report: dict[str, Any] = json.loads(proc.stdout)
        return report

    return run


@pytest.fixture(scope="session")
def protos_cold(tmp_path_factory: pytest.TempPathFactory) -> Result:
    """A cold generation of every source into a fresh folder."""
    return generate(tmp_path_factory.mktemp("cold") / "gen")


@pytest.fixture(scope="session")
def protos_report(protos_cold: Result, inspect_stubs: Callable[[Path], dict[str, Any]]) -> dict[str, Any]:
    return inspect_stubs(protos_cold.out_root)


@pytest.fixture
def protos_copy(protos_cold: Result, tmp_path: Path) -> Path:
    """A private copy of the cold generation, safe to regenerate into."""
    target = tmp_path / "gen"
    shutil.copytree(protos_cold.out_root, target)
    return target
