"""kubectl from the toolchain, pointed at a kubeconfig."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubelab_cluster.kind.errors import ClusterError


@dataclass(frozen=True)
class Kubectl:
    binary: Path
    kubeconfig: Path

    def attempt(self, *args: str, timeout: float = 120, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """kubectl that may be refused: the exit status and both streams, never raising for a failure."""
        cmd = [str(self.binary), "--kubeconfig", str(self.kubeconfig), *args]
        return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout, check=False)

    def run(self, *args: str, check: bool = True, timeout: float = 120, stdin: str | None = None) -> str:
        proc = self.attempt(*args, timeout=timeout, stdin=stdin)
        if check and proc.returncode != 0:
            raise ClusterError(f"kubectl {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "-o", "json"))
