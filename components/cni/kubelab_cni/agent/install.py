"""The plugin's files on the node, each step idempotent: run it twice, nothing changes.

- ``<lib>/site-packages-<key>/``: kubelab-cni and what it imports, for the shim's in-process
  fallback (the node's python3 runs it when no daemon answers); ``<lib>/site-packages``
  points at the current one. Content-keyed, built under a temporary name and renamed into
  place (:func:`~kubelab_kit.files.staged_dir`), the link swapped in one rename.
- ``<cni_bin>/kubelab-cni``: the stdlib-only shim.
- ``<cni_bin>/kubelab-student`` (and ``<lib>/impl-<key>/``): a student's plugin from ``--impl``.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import re
import shutil
import tarfile
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path, PurePosixPath

from kubelab_cni.agent.errors import AgentError
from kubelab_cni.agent.hostpaths import HostPaths
from kubelab_cni.install import plugin_script
from kubelab_kit.files import atomic_write, staged_dir, swap_symlink

log = logging.getLogger("kubelab-cni-agent")

PLUGIN = "kubelab-cni"
STUDENT_PLUGIN = "kubelab-student"
COMPLETE = ".complete"

# What the agent needs but the plugin does not: the in-process fallback imports kubelab_cni,
# the kit, pyroute2 and pydantic, never the Kubernetes client the agent watches nodes with.
AGENT_ONLY = frozenset({"kubelab-client"})
# Workspace packages: in a development (editable) install their files are not in the
# distribution's RECORD (only a .pth pointing at the source tree), so they are copied from there.
FIRST_PARTY = ("kubelab_cni", "kubelab_kit")

_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def distribution_closure(root: str = "kubelab-cni", exclude: Iterable[str] = AGENT_ONLY) -> list[metadata.Distribution]:
    """``root`` and every distribution it requires (extras-only requirements and ``exclude`` left out)."""
    skip = {_normalize(name) for name in exclude}
    seen: dict[str, metadata.Distribution] = {}
    todo = [root]
    while todo:
        name = _normalize(todo.pop())
        if name in seen or name in skip:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional dependency for another Python or platform
        seen[name] = dist
        for req in dist.requires or []:
            if "extra" in req.partition(";")[2]:
                continue
            m = _REQ_NAME.match(req)
            if m:
                todo.append(m.group(1))
    return [seen[k] for k in sorted(seen)]


# Per-installation metadata (a temp wheel path, timestamps): not needed to import, and it would
# give two builds of the same sources different keys.
_INSTALL_RECORDS = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "uv_cache.json"})


def _closure_files(dists: Iterable[metadata.Distribution]) -> dict[str, Path]:
    """relative path in site-packages -> source file (no byte code, nothing outside site-packages)."""
    files: dict[str, Path] = {}
    for dist in dists:
        for rel in dist.files or []:
            parts = PurePosixPath(str(rel)).parts
            if not parts or parts[0] == ".." or "__pycache__" in parts or str(rel).endswith(".pyc"):
                continue
            if parts[-1] in _INSTALL_RECORDS:
                continue
            src = Path(str(dist.locate_file(rel)))
            if src.is_file():
                files[str(rel)] = src
    return files


def site_packages_files() -> dict[str, Path]:
    """What ``<lib>/site-packages-<key>/`` holds: relative path -> source file."""
    files = {rel: src for rel, src in _closure_files(distribution_closure()).items() if not rel.endswith(".pth")}
    for package in FIRST_PARTY:
        if any(rel.startswith(f"{package}/") for rel in files):
            continue
        module = importlib.import_module(package)  # an editable install (development)
        directory = Path(str(module.__file__)).parent
        for src in directory.rglob("*.py"):
            if "__pycache__" not in src.parts:
                files[str(src.relative_to(directory.parent))] = src
    return files


def install_site_packages(paths: HostPaths) -> str:
    """Copy kubelab-cni and its dependencies to ``<lib>/site-packages-<key>``; point ``site-packages`` at it.

    The in-process fallback of the shim imports them from there with the node's python3,
    so the plugin works while no agent (no daemon) runs on the node. Returns the key.
    """
    files = site_packages_files()
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(rel.encode() + b"\0" + files[rel].read_bytes())
    key = h.hexdigest()[:12]
    lib = paths.here(paths.lib)
    target = lib / f"site-packages-{key}"
    if not (target / COMPLETE).exists():
        # replace=True: a directory of this name without the marker is a copy a killed agent left half-done
        with staged_dir(target, replace=True) as staging:
            for rel, src in files.items():
                dst = staging / rel
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
            (staging / COMPLETE).write_text(f"{len(files)} files\n")
        log.info("installed %d files of %s into %s", len(files), PLUGIN, f"{paths.lib}/{target.name}")
    if swap_symlink(lib / "site-packages", target.name):
        log.info("%s -> %s", paths.site_packages, target.name)
    for old in lib.glob("site-packages-*"):
        if old.name != target.name:
            shutil.rmtree(old, ignore_errors=True)
    return key


def install_plugin(paths: HostPaths) -> bool:
    """The stdlib-only shim as ``<cni_bin>/kubelab-cni``, run by the node's python3."""
    script = plugin_script(python=paths.python, paths=[paths.site_packages])
    changed = atomic_write(paths.here(paths.cni_bin) / PLUGIN, script, mode=0o755)
    if changed:
        log.info("wrote %s/%s", paths.cni_bin, PLUGIN)
    return changed


STUDENT_TEMPLATE = """#!{python} -I
# A student's CNI plugin package, installed by kubelab-cni-agent from the lab's --impl.
import runpy
import sys
sys.path[:0] = [{pkg_dir!r}]
sys.path.append({site_packages!r})
runpy.run_module({module!r}, run_name="__main__", alter_sys=True)
"""

ARCHIVE_FIX = "build the --impl archive as a tar.gz holding bin/<executable> or pkg/<package>/"


def _safe_members(tar: tarfile.TarFile, archive: Path) -> list[tarfile.TarInfo]:
    """Regular files and directories under the archive's root only (Debian's 3.11.2 has no extraction filter)."""
    members = []
    for m in tar.getmembers():
        parts = PurePosixPath(m.name).parts
        if m.name.startswith("/") or ".." in parts or not (m.isfile() or m.isdir()):
            raise AgentError(f"--impl archive {archive}: refusing member {m.name!r}", fix=ARCHIVE_FIX)
        m.mode = (m.mode & 0o755) | (0o200 if m.isfile() else 0o700)
        members.append(m)
    return members


def install_student(paths: HostPaths, archive: Path) -> str:
    """Unpack ``--impl`` (a tar.gz holding ``bin/<file>`` or ``pkg/<package>/``) as ``kubelab-student``."""
    data = archive.read_bytes()
    key = hashlib.sha256(data).hexdigest()[:12]
    lib = paths.here(paths.lib)
    target = lib / f"impl-{key}"
    if not (target / COMPLETE).exists():
        with staged_dir(target, replace=True) as staging:
            try:
                with tarfile.open(archive) as tar:
                    tar.extractall(staging, members=_safe_members(tar, archive))
            except tarfile.TarError as exc:
                raise AgentError(f"--impl archive {archive}: {exc}", fix=ARCHIVE_FIX) from exc
            (staging / COMPLETE).write_text("ok\n")
    binary = paths.here(paths.cni_bin) / STUDENT_PLUGIN
    executables = sorted((target / "bin").glob("*")) if (target / "bin").is_dir() else []
    packages = sorted(p for p in (target / "pkg").glob("*") if p.is_dir()) if (target / "pkg").is_dir() else []
    if executables:
        atomic_write(binary, executables[0].read_bytes(), mode=0o755)
    elif packages:
        script = STUDENT_TEMPLATE.format(
            python=paths.python,
            pkg_dir=f"{paths.lib}/{target.name}/pkg",
            site_packages=paths.site_packages,
            module=packages[0].name,
        )
        atomic_write(binary, script, mode=0o755)
    else:
        raise AgentError(f"--impl archive {archive}: neither bin/<file> nor pkg/<package>/ inside", fix=ARCHIVE_FIX)
    for old in lib.glob("impl-*"):
        if old.name != target.name:
            shutil.rmtree(old, ignore_errors=True)
    return key


def remove_student(paths: HostPaths) -> None:
    (paths.here(paths.cni_bin) / STUDENT_PLUGIN).unlink(missing_ok=True)
    for old in paths.here(paths.lib).glob("impl-*"):
        shutil.rmtree(old, ignore_errors=True)
