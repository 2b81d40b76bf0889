"""Build hook: a wheel without the generated stubs is useless, so refuse to build one.

The stubs are gitignored and produced by ``kubelab-protos generate`` (``nox -s protos``),
the cluster package's build step, which needs Go and the module cache; a wheel build
only packages what is there. Generated means ``kubelab_protos/gen/__init__.py`` exists
(the generator writes it last), the same check as ``kubelab_protos.is_generated``.
Editable installs (``uv sync``) are unaffected: they are made before any generation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class StubsPresentHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        marker = Path(self.root) / "kubelab_protos" / "gen" / "__init__.py"
        if not marker.is_file():
            raise RuntimeError(
                f"kubelab-protos: {marker.parent} holds no generated stubs; "
                "run `kubelab-protos generate` (or `nox -s protos`) before building a wheel"
            )
