"""``kubelab-cni-install DIR``: write the fast ``kubelab-cni`` plugin executable into a CNI bin dir.

A console-script wrapper (what ``[project.scripts]`` installs) starts the full interpreter
with ``site`` and imports ``importlib.metadata``; the runtime pays that on every call. The
file written here instead runs ``python -I -S`` (isolated, no site), puts only this package
and its dependencies' directory on ``sys.path``, and imports the stdlib-only shim.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

TEMPLATE = """#!{python} -IS
# kubelab-cni plugin executable, written by kubelab-cni-install. The shim is standard library
# only; the extra path entries are used only when no daemon answers (in-process fallback).
import sys
sys.path[:0] = {paths!r}
from kubelab_cni.shim import main
main()
"""


def plugin_script(python: str | None = None, paths: list[str] | None = None) -> str:
    """The executable's text; ``paths`` (default: where this package and pyroute2 live) go on sys.path."""
    if paths is not None:
        return TEMPLATE.format(python=python or sys.executable, paths=paths)
    import pyroute2  # type: ignore[import-untyped]

    import kubelab_cni

    package_root = str(Path(kubelab_cni.__file__).resolve().parent.parent)
    deps_root = str(Path(pyroute2.__file__).resolve().parent.parent)
    paths = list(dict.fromkeys([package_root, deps_root]))
    return TEMPLATE.format(python=python or sys.executable, paths=paths)


def install(directory: Path, name: str = "kubelab-cni", python: str | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / name
    tmp = directory / f".{name}.{os.getpid()}.tmp"
    tmp.write_text(plugin_script(python))
    tmp.chmod(0o755)
    os.replace(tmp, target)
    return target


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
