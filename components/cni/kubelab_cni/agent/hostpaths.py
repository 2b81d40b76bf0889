"""The node's paths, and where the agent sees them (its pod mounts the node's directories under ``/host``).

The files the agent writes name the node's own paths (``cni_bin``, ``lib``...); it writes
them through :meth:`HostPaths.here`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class HostPaths:
    """The node's paths, and where this process sees them."""

    root: str = "/host"
    cni_bin: str = "/opt/cni/bin"
    cni_conf: str = "/etc/cni/net.d"
    lib: str = "/opt/kubelab-cni"
    run: str = "/run"
    python: str = "/usr/bin/python3"

    def here(self, node_path: str) -> Path:
        """Where this process sees the node's ``node_path``."""
        return Path(self.root + node_path) if self.root not in ("", "/") else Path(node_path)

    @property
    def site_packages(self) -> str:
        return f"{self.lib}/site-packages"
