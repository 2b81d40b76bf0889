"""Where the generated code lives; importable without any dependency.

``gen/`` is written by the generator (``kubelab-protos generate``, a build step of the
cluster package), never by this package. Generated means: ``gen/__init__.py`` exists,
the generator puts it in place last; nothing else of the generator's is read here.
"""

from __future__ import annotations

from pathlib import Path

GEN_PACKAGE = "kubelab_protos.gen"
GEN_DIR = Path(__file__).resolve().parent / "gen"  # the default output: gitignored, shipped in wheels
HINT = "run `kubelab-protos generate` or `nox -s protos`"
