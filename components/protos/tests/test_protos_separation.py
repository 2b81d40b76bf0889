"""The stubs package is runtime only: importing it, or a stub, loads neither the generator nor its tools."""

from __future__ import annotations

import ast
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import kubelab_protos

Python = Callable[..., subprocess.CompletedProcess[str]]

BUILD_SIDE = ("kubelab_cluster", "grpc_tools", "kubelab_kit")

# argv: a generated folder. Prints the top-level modules loaded after each step, and who
# tried to import a build-side module. grpcio itself tries ``import grpc_tools`` (to alias
# ``grpc.tools`` when it is installed, as it is in this one environment), so from the
# first stub on those imports are refused, as if only the runtime were installed, and
# the importer of each attempt is recorded.
LOADED = """
import importlib.abc, json, sys
from pathlib import Path

BUILD_SIDE = set(sys.argv[2].split(","))
attempts = []

def roots():
    return sorted({name.split(".")[0] for name in sys.modules})

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname.split(".")[0] not in BUILD_SIDE:
            return None
        frame = sys._getframe(1)
        while frame and frame.f_globals.get("__name__", "").startswith(("importlib", "_frozen_importlib")):
            frame = frame.f_back
        attempts.append([fullname, frame.f_globals.get("__name__") if frame else None])
        raise ModuleNotFoundError(f"refused: {fullname}", name=fullname)

steps = {}
import kubelab_protos
steps["import kubelab_protos"] = roots()
sys.meta_path.insert(0, Refuse())
kubelab_protos.bind_gen_root(Path(sys.argv[1]))
from kubelab_protos.gen.cri.v1 import api_pb2, api_pb2_grpc
from kubelab_protos.gen.csi.v1 import csi_pb2_grpc
steps["import stub modules"] = roots()
print(json.dumps({"steps": steps, "attempts": attempts, "stub": api_pb2_grpc.RuntimeServiceStub.__name__}))
"""


def test_importing_the_stubs_loads_no_build_tool(cold: Path, python: Python) -> None:
    proc = python(LOADED, str(cold), ",".join(BUILD_SIDE))
    assert proc.returncode == 0, f"the stubs need a build-side module:\n{proc.stderr}"
    report = json.loads(proc.stdout)
    for step, loaded in report["steps"].items():
        assert [name for name in BUILD_SIDE if name in loaded] == [], f"{step} loaded build-side modules"
    assert "google" not in report["steps"]["import kubelab_protos"], "importing the package alone must load no stub"
    assert {"google", "grpc", "kubelab_protos"} <= set(report["steps"]["import stub modules"])
    assert report["stub"] == "RuntimeServiceStub"
    assert {importer for _, importer in report["attempts"]} <= {"grpc"}, "only grpcio's optional grpc.tools alias"


def test_package_sources_import_no_build_tool() -> None:
    package = Path(kubelab_protos.__file__).parent
    sources = [p for p in package.glob("*.py")] + [package.parent / "hatch_build.py"]
    found = {}
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            bad = sorted({n.split(".")[0] for n in names} & set(BUILD_SIDE))
            if bad:
                found[path.name] = bad
    assert found == {}
