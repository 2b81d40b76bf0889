"""Checkpoint 3 (book 1.3, generated files): stubs follow their inputs.

Upstream regenerates ``zz_generated.*`` and ``*.pb.go`` when an API changes
(``make generated_files``, ``hack/update-codegen.sh``). Our analogue: the Python
gRPC stubs are generated from the pinned modules' ``.proto`` files, cached by a hash
of those inputs. An unchanged input regenerates nothing; a changed one regenerates.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from kubelab_cluster.pins import pins
from kubelab_cluster.toolchain.gotool import GoRunner


def protos(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kubelab-protos", *args], capture_output=True, text=True, timeout=300, check=False)


def cri_proto() -> Path:
    p = pins()
    info = GoRunner("lab-build", p.tools.go).module_info("k8s.io/cri-api", p.kubernetes.staging)
    return Path(info["Dir"]) / "pkg/apis/runtime/v1/api.proto"


def services(out: Path) -> dict[str, list[str]]:
    proc = protos("list", "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    result: dict[str, list[str]] = json.loads(proc.stdout)
    return result


def test_changed_input_regenerates_and_unchanged_does_not(tmp_path: Path) -> None:
    """The stubs are regenerated exactly when an input .proto changes, and the new rpc appears.

    Hint (1.3): generate in cluster/kubelab_cluster/protos/generate.py skips when is_current
    (protos/stamp.py) finds the same input_key in .stamp.json; overrides are read by resolve_inputs
    (protos/inputs.py). Try `uv run kubelab-protos generate --out /tmp/gen` twice, then `uv run kubelab-protos
    list --out /tmp/gen --json`, and read /tmp/gen/.stamp.json.
    """
    out = tmp_path / "gen"
    first = protos("generate", "--out", str(out))
    assert first.returncode == 0, first.stderr
    assert "/runtime.v1.RuntimeService/RunPodSandbox" in services(out)["runtime.v1.RuntimeService"]
    stamp = (out / ".stamp.json").read_text()

    again = protos("generate", "--out", str(out))
    assert again.returncode == 0 and "cached" in (again.stdout + again.stderr).lower()
    assert (out / ".stamp.json").read_text() == stamp

    # Change an input: a CRI api.proto with one more rpc on RuntimeService.
    edited = tmp_path / "api.proto"
    text = cri_proto().read_text()
    marker = "service RuntimeService {"
    assert marker in text
    edited.write_text(
        text.replace(marker, marker + "\n    rpc LabPing(VersionRequest) returns (VersionResponse) {}", 1)
    )
    changed = protos("generate", "--out", str(out), "--override", f"cri-v1={edited}")
    assert changed.returncode == 0, changed.stderr
    assert (out / ".stamp.json").read_text() != stamp
    assert "/runtime.v1.RuntimeService/LabPing" in services(out)["runtime.v1.RuntimeService"]

    # And back: the pinned input again gives the pinned stubs.
    back = protos("generate", "--out", str(out))
    assert back.returncode == 0, back.stderr
    assert "/runtime.v1.RuntimeService/LabPing" not in services(out)["runtime.v1.RuntimeService"]
