"""``kubelab-cni-install DIR``: write the fast ``kubelab-cni`` plugin executable into a CNI bin dir.

A console-script wrapper (what ``[project.scripts]`` installs) starts the full interpreter
with ``site`` and imports ``importlib.metadata``; the runtime pays that on every call. The
file written here instead runs ``python -I -S`` (isolated, no site), puts only the
directories of this package, the kit and their dependencies on ``sys.path``, and imports
the stdlib-only shim (which imports neither the kit nor a dependency: only the in-process
fallback does).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from kubelab_kit.entry import entry_point
from kubelab_kit.errors import KubelabError
from kubelab_kit.files import atomic_write

TEMPLATE = """#!{python} -IS
# kubelab-cni plugin executable, written by kubelab-cni-install. The shim is standard library
# only; the extra path entries are used only when no daemon answers (in-process fallback).
import sys
sys.path[:0] = {paths!r}
from kubelab_cni.shim import main
main()
"""


class InstallError(KubelabError):
    area = "cni"


# What the in-process fallback imports from outside the standard library; with ``-S`` no .pth
# file is read, so each one's directory goes on sys.path (in a development install the
# workspace packages each live in their own source tree).
FALLBACK_IMPORTS = ("kubelab_cni", "kubelab_kit", "pyroute2", "pydantic")


def _import_root(module: str) -> str:
    """The sys.path entry ``module`` is found under (without importing it)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin:
        raise InstallError(f"{module} is not installed", fix="uv sync --all-packages")
    return str(Path(spec.origin).resolve().parent.parent)


def plugin_script(python: str | None = None, paths: list[str] | None = None) -> str:
    """The executable's text; ``paths`` (default: where the fallback's imports live) go on sys.path."""
    if paths is None:
        paths = list(dict.fromkeys(_import_root(m) for m in FALLBACK_IMPORTS))
    return TEMPLATE.format(python=python or sys.executable, paths=paths)


def install(directory: Path, name: str = "kubelab-cni", python: str | None = None) -> Path:
    """Write (or leave, when unchanged) ``directory/name``, mode 0755, in one rename."""
    target = directory / name
    try:
        atomic_write(target, plugin_script(python), mode=0o755)
    except OSError as exc:
        raise InstallError(
            f"cannot write {target}: {exc.strerror or exc}", fix="run as root, or choose a directory you can write"
        ) from exc
    return target


@entry_point
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kubelab-cni-install", description=__doc__)
    parser.add_argument("directory", type=Path, help="CNI bin directory, e.g. /opt/cni/bin")
    parser.add_argument("--name", default="kubelab-cni", help="file name (the config's `type`)")
    parser.add_argument("--python", help="interpreter for the shebang (default: this one)")
    args = parser.parse_args(argv)
    print(install(args.directory, args.name, args.python))
    return 0


if __name__ == "__main__":
    sys.exit(main())
