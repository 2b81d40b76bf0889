"""The lab's starter (labs/client/starter): it imports, shadows only what it defines, and its TODOs fail clearly."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
STARTER = REPO / "labs" / "client" / "starter"
REFERENCE = REPO / "components" / "client" / "kubelab_client"

PROBE = """
import json, threading
import kubelab_client, kubelab_client.reflector as r, kubelab_client.informer as i, kubelab_client.ratelimit as rl
from kubelab_client.workqueue import RateLimitingQueue
out = {"package": kubelab_client.__file__, "reflector": r.__file__, "informer": i.__file__, "ratelimit": rl.__file__}
def todo(fn):
    try:
        fn()
    except NotImplementedError as exc:
        return str(exc)
    return None
refl = r.Reflector(None, None, name="probe")
out["first_list"] = refl._relist_rv()
refl._last_sync_rv = "42"
out["relist"] = todo(refl._relist_rv)
out["gone"] = todo(refl._on_gone)
out["when"] = todo(lambda: rl.ItemExponentialFailureRateLimiter().when("k"))
out["queue"] = todo(lambda: RateLimitingQueue(name="probe").add_rate_limited("k"))
print(json.dumps(out))
"""


def _probe() -> dict[str, object]:
    import json

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(STARTER), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_starter_shadows_only_its_own_modules_and_its_todos_fail_clearly() -> None:
    out = _probe()
    assert Path(str(out["package"])).parent == STARTER / "kubelab_client"
    assert Path(str(out["reflector"])).parent == STARTER / "kubelab_client"
    assert Path(str(out["ratelimit"])).parent == STARTER / "kubelab_client"
    assert Path(str(out["informer"])).resolve().parent == REFERENCE  # the reference's, on the starter's reflector
    assert out["first_list"] == ["0", None]  # the first list works: the cache syncs
    assert "TODO(2.8)" in str(out["relist"]) and "_relist_rv" in str(out["relist"])
    assert "TODO(2.8)" in str(out["gone"]) and "_on_gone" in str(out["gone"])
    assert "TODO(2.8)" in str(out["when"]) and "ItemExponentialFailureRateLimiter.when" in str(out["when"])
    assert "TODO(2.8)" in str(out["queue"])


def _defs(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            names |= {f"{node.name}.{f.name}" for f in node.body if isinstance(f, ast.FunctionDef)} | {node.name}
        elif isinstance(node, ast.FunctionDef) and node.col_offset == 0:
            names.add(node.name)
    return names


def test_starter_modules_keep_the_reference_api() -> None:
    for module in sorted((STARTER / "kubelab_client").glob("*.py")):
        if module.name == "__init__.py":
            continue
        assert _defs(module) == _defs(REFERENCE / module.name), f"{module.name} drifted from the reference"
