"""The kubelet's image credential provider on the nodes: a Python zipapp in the bin directory the
kubelet's ``--image-credential-provider-bin-dir`` names.

The kubelet checks at start that every provider of its configuration (cluster/credential-provider.yaml)
is an executable in that directory, so the cluster installs the reference before the nodes boot
(:func:`install`, from ``kubelet-plugins/credentialprovider``). The kubelet lab installs the package it
grades the same way and puts the reference back at the end. The zipapp runs on the node's
``python3`` (the provider uses the standard library only). A graded package is laid over the
reference: its modules replace the reference's, its ``__init__.py`` is not taken.
"""

from __future__ import annotations

import shutil
import tempfile
import zipapp
from pathlib import Path

from kubelab_cluster.kind.preflight import CLUSTER_FILES
from kubelab_cluster.workspace import component_dir

NAME = "kubelab-credential-provider"  # the provider's name in the configuration, and the executable's
PACKAGE = "kubelab_credentialprovider"
FOLDER = CLUSTER_FILES / "credential-provider"  # /etc/kubelab/credential-provider on the nodes
BIN_DIR = FOLDER / "bin"
CREDENTIALS = FOLDER / "credentials.json"
INTERPRETER = "/usr/bin/python3"
MAIN = f"import sys\n\nfrom {PACKAGE}.cli import main\n\nsys.exit(main())\n"  # the exit status is the answer's


def reference_package() -> Path:
    return component_dir("credentialprovider") / PACKAGE


def build(target: Path, graded: Path | None = None) -> Path:
    """The zipapp of the reference package, with ``graded``'s modules over it when given."""
    with tempfile.TemporaryDirectory(prefix="kubelab-credential-provider-") as tmp:
        package = Path(tmp) / "app" / PACKAGE
        shutil.copytree(reference_package(), package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        if graded is not None:
            for source in sorted(graded.rglob("*.py")):
                if source.name != "__init__.py" and "__pycache__" not in source.parts:
                    dest = package / source.relative_to(graded)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(source, dest)
        (package.parent / "__main__.py").write_text(MAIN)
        staged = Path(tmp) / NAME
        zipapp.create_archive(package.parent, staged, interpreter=INTERPRETER)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(staged, target.with_suffix(".new"))
        target.with_suffix(".new").chmod(0o755)
        target.with_suffix(".new").replace(target)  # the kubelet never execs half a file
    return target


def install(graded: Path | None = None) -> Path:
    """Put the provider (the reference, or ``graded`` over it) where the kubelet runs it from."""
    return build(BIN_DIR / NAME, graded)
