"""The agent's files on the node, seen through a temporary host root (no root, no cluster): the
copied site-packages is enough for the shim's in-process fallback, and every step is idempotent."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from kubelab_cni.agent import install, netconf
from kubelab_cni.agent.errors import AgentError
from kubelab_cni.agent.hostpaths import HostPaths
from kubelab_cni.install import plugin_script


def test_site_packages_holds_the_plugin_and_the_kit_but_not_the_agents_client(tmp_path: Path) -> None:
    paths = HostPaths(root=str(tmp_path))
    key = install.install_site_packages(paths)
    site = paths.here(paths.site_packages)
    assert site.is_symlink() and site.resolve().name == f"site-packages-{key}"
    tops = {p.name for p in site.iterdir()}
    assert {"kubelab_cni", "kubelab_kit", "pyroute2", "pydantic", ".complete"} <= tops
    assert not tops & {"kubelab_client", "kubernetes", "urllib3"}, "the agent's dependencies stay off the node"
    # the fallback runs from the copy alone (-IS: no site, so nothing of this venv is importable)
    script = tmp_path / "kubelab-cni"
    script.write_text(plugin_script(python=sys.executable, paths=[str(site)]))
    script.chmod(0o755)
    env = {"CNI_COMMAND": "VERSION", "KUBELAB_CNI_SOCKET": str(tmp_path / "none.sock")}
    proc = subprocess.run([str(script)], input=b'{"cniVersion":"1.0.0"}', env=env, capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    assert json.loads(proc.stdout)["cniVersion"] == "1.0.0"
    bad = subprocess.run([str(script)], input=b"{}", env={**env, "CNI_COMMAND": "FROB"}, capture_output=True)
    assert bad.returncode == 1 and json.loads(bad.stdout)["code"] == 4  # CniError, from the copied kit
    # again: the same key, nothing rewritten, the old copy kept
    mtime = (site / ".complete").stat().st_mtime_ns
    assert install.install_site_packages(paths) == key
    assert (site / ".complete").stat().st_mtime_ns == mtime
    assert sorted(p.name for p in paths.here(paths.lib).iterdir()) == sorted(["site-packages", f"site-packages-{key}"])


def test_plugin_and_conflist_are_written_once(tmp_path: Path) -> None:
    paths = HostPaths(root=str(tmp_path))
    assert install.install_plugin(paths) is True
    assert install.install_plugin(paths) is False
    binary = paths.here(paths.cni_bin) / install.PLUGIN
    assert binary.stat().st_mode & 0o777 == 0o755
    assert binary.read_text().startswith("#!/usr/bin/python3 -IS\n")
    conf_dir = paths.here(paths.cni_conf)
    conf_dir.mkdir(parents=True)
    (conf_dir / "10-kubelab-default.conflist").write_text("{}")
    assert netconf.write_conflist(paths, "10.244.1.0/24", install.PLUGIN, 1500) is True
    assert sorted(p.name for p in conf_dir.iterdir()) == [
        netconf.CONFLIST_NAME,
        "10-kubelab-default.conflist" + netconf.DISABLED_SUFFIX,
    ]
    assert netconf.write_conflist(paths, "10.244.1.0/24", install.PLUGIN, 1500) is False
    doc = json.loads((conf_dir / netconf.CONFLIST_NAME).read_text())
    assert doc["plugins"][0]["ipam"]["ranges"] == [[{"subnet": "10.244.1.0/24"}]]


def _archive(tmp_path: Path, members: dict[str, bytes]) -> Path:
    path = tmp_path / "impl.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    return path


def test_student_plugin_from_the_impl_archive(tmp_path: Path) -> None:
    paths = HostPaths(root=str(tmp_path / "host"))
    archive = _archive(tmp_path, {"bin/plugin": b"#!/bin/sh\necho hi\n"})
    key = install.install_student(paths, archive)
    binary = paths.here(paths.cni_bin) / install.STUDENT_PLUGIN
    assert binary.read_bytes() == b"#!/bin/sh\necho hi\n" and binary.stat().st_mode & 0o777 == 0o755
    assert install.install_student(paths, archive) == key
    install.remove_student(paths)
    assert not binary.exists() and not list(paths.here(paths.lib).glob("impl-*"))
    with pytest.raises(AgentError, match="refusing member") as caught:
        install.install_student(paths, _archive(tmp_path, {"../escape": b"x"}))
    assert "fix: build the --impl archive" in str(caught.value)
    assert not list(paths.here(paths.lib).glob("*impl-*")), "a refused archive leaves no directory behind"
    with pytest.raises(AgentError, match="neither bin"):
        install.install_student(paths, _archive(tmp_path, {"README": b"x"}))


def test_the_reference_package_as_an_impl_runs_in_process(tmp_path: Path) -> None:
    """The CNI lab's [impl] reference: kubelab_cni itself, archived as a student's package is
    (pkg/kubelab_cni/...), installed as kubelab-student and run with `python3 -m` semantics (runpy)."""
    import kubelab_cni

    package = Path(str(kubelab_cni.__file__)).parent
    members = {
        f"pkg/kubelab_cni/{f.relative_to(package)}": f.read_bytes()
        for f in sorted(package.rglob("*.py"))
        if "__pycache__" not in f.parts
    }
    assert "pkg/kubelab_cni/__main__.py" in members
    paths = HostPaths(root="", cni_bin=str(tmp_path / "bin"), lib=str(tmp_path / "lib"), python=sys.executable)
    install.install_student(paths, _archive(tmp_path, members))
    binary = tmp_path / "bin" / install.STUDENT_PLUGIN
    assert "runpy.run_module('kubelab_cni'" in binary.read_text()
    env = {"CNI_COMMAND": "VERSION"}
    proc = subprocess.run([str(binary)], input=b'{"cniVersion":"1.0.0"}', env=env, capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    assert "1.1.0" in json.loads(proc.stdout)["supportedVersions"]
    bad = subprocess.run([str(binary)], input=b"{}", env={"CNI_COMMAND": "ADD"}, capture_output=True, check=False)
    assert bad.returncode == 1 and json.loads(bad.stdout)["code"] == 4, bad
