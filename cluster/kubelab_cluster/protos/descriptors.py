"""What a generation serves: every gRPC service and its full method paths, from the descriptors.

The generated ``*_pb2`` modules are loaded by file path, the output folder registered as
the package ``kubelab_protos.gen`` (so their absolute imports resolve), without importing
the stubs package ``kubelab_protos``. That happens in a fresh interpreter: the protobuf
descriptor pool is process-wide, and a caller may already use another generation.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kubelab_cluster.protos.errors import ProtosError
from kubelab_cluster.protos.sources import GEN_PACKAGE

# argv: the output folder, the package name it is imported as. Prints {service: [method path, ...]}.
SCRIPT = """
import importlib, importlib.util, json, sys
from pathlib import Path

root, package = Path(sys.argv[1]), sys.argv[2]
spec = importlib.util.spec_from_file_location(package, root / "__init__.py", submodule_search_locations=[str(root)])
sys.modules[package] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sys.modules[package])
names = sorted(".".join((package, *p.relative_to(root).with_suffix("").parts)) for p in root.rglob("*_pb2.py"))
found = {}
for name in names:
    for service in importlib.import_module(name).DESCRIPTOR.services_by_name.values():
        found[service.full_name] = [f"/{service.full_name}/{method.name}" for method in service.methods]
print(json.dumps(found))
"""


def services(out_root: Path) -> dict[str, list[str]]:
    """{full service name: [full method path, ...]} of the stubs generated in ``out_root``.

    e.g. ``{"runtime.v1.RuntimeService": ["/runtime.v1.RuntimeService/Version", ...], ...}``
    """
    out_root = out_root.resolve()
    if not (out_root / "__init__.py").is_file():
        raise ProtosError(
            f"no generated stubs in {out_root}",
            fix=f"run `kubelab-protos generate --out {out_root}` (or `kubelab-protos generate` for the default)",
        )
    command = [sys.executable, "-c", SCRIPT, str(out_root), GEN_PACKAGE]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise ProtosError(
            f"cannot load the stubs generated in {out_root}",
            fix=f"regenerate them: `kubelab-protos generate --force --out {out_root}`",
            command=[sys.executable, "-c", "<kubelab_cluster.protos.descriptors.SCRIPT>", str(out_root), GEN_PACKAGE],
            output=proc.stdout + proc.stderr,
        )
    found: dict[str, list[str]] = json.loads(proc.stdout)
    return found
