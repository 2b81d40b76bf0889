"""The uv workspace's members, read from the root ``pyproject.toml`` (``[tool.uv.workspace] members``).

One list says which folders are packages: the lab image bundles them, ``nox -s tests`` and
``nox -s lint`` find their tests and typed sources through it, and a component's manifests are
looked up among them (``components/<name>`` or ``kubelet-plugins/<name>``).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from kubelab_cluster.pins import repo_root


def members(root: Path | None = None) -> list[Path]:
    """Every member folder, globs expanded, in the order the file lists them (each glob sorted)."""
    root = root or repo_root()
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]["members"]
    found: list[Path] = []
    for pattern in patterns:
        found += sorted(p for p in root.glob(pattern) if (p / "pyproject.toml").is_file())
    return found


def in_lab_image(member: Path) -> bool:
    """Whether the lab image bundles the member (``[tool.kubelab] lab-image = false`` in its
    pyproject.toml keeps out a tool that never runs on the cluster, such as the docs site)."""
    data = tomllib.loads((member / "pyproject.toml").read_text())
    return bool(data.get("tool", {}).get("kubelab", {}).get("lab-image", True))


def project_name(member: Path) -> str:
    name: str = tomllib.loads((member / "pyproject.toml").read_text())["project"]["name"]
    return name


def component_dir(name: str, root: Path | None = None) -> Path:
    """The member folder called ``name`` (``csi``, ``deviceplugin``); KeyError names the members."""
    root = root or repo_root()
    for member in members(root):
        if member.name == name:
            return member
    raise KeyError(f"no workspace member called {name!r}: {', '.join(m.name for m in members(root))}")
