"""Where generated code lives; importable without any dependency."""

from __future__ import annotations

from pathlib import Path

GEN_PACKAGE = "kubelab_protos.gen"
GEN_DIR = Path(__file__).resolve().parent / "gen"  # the default output: gitignored, shipped in wheels
STAMP_NAME = ".stamp.json"
HINT = "run `kubelab-protos generate` or `nox -s protos`"
