"""The shim stays standard-library only and fast; the installed script runs it with -IS."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from kubelab_cni.install import plugin_script


def test_shim_imports_no_third_party_module(tmp_path: Path) -> None:
    script = tmp_path / "probe"
    body = plugin_script().replace("from kubelab_cni.shim import main\nmain()\n", "")
    body += (
        "import kubelab_cni.shim\n"
        "heavy = ('pyroute2', 'pydantic', 'rich', 'kubelab_kit', 'kubelab_client', 'kubernetes')\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in heavy]\n"
        "print(bad, sys.flags.isolated, sys.flags.no_site)\n"
    )
    script.write_text(body)
    script.chmod(0o755)
    out = subprocess.run([str(script)], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[] 1 1"


def test_installed_script_answers_version_quickly(tmp_path: Path) -> None:
    from kubelab_cni.install import install

    binary = install(tmp_path)
    assert binary.read_text().startswith(f"#!{sys.executable} -IS\n")
    # VERSION needs the in-process path (no daemon), which is the slow one: it still must work
    samples = []
    for _ in range(3):
        started = time.perf_counter()
        proc = subprocess.run(
            [str(binary)],
            input=b'{"cniVersion":"1.1.0"}',
            env={"CNI_COMMAND": "VERSION", "KUBELAB_CNI_SOCKET": str(tmp_path / "none.sock")},
            capture_output=True,
            check=True,
        )
        samples.append(time.perf_counter() - started)
        assert b'"1.1.0"' in proc.stdout
    assert min(samples) < 5.0
