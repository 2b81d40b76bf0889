"""The one error the toolchain raises: it names the artifact, the command and the fix."""

from __future__ import annotations

import shlex
from collections.abc import Sequence


class ToolchainError(RuntimeError):
    def __init__(
        self,
        artifact: str,
        problem: str,
        fix: str,
        command: Sequence[str] | None = None,
        output: str = "",
        log: str | None = None,
    ) -> None:
        self.artifact = artifact
        self.problem = problem
        self.fix = fix
        self.command = list(command or [])
        self.output = output
        self.log = log
        super().__init__(self.render())

    def render(self) -> str:
        lines = [f"toolchain: building {self.artifact!r} failed: {self.problem}"]
        if self.command:
            lines.append(f"  command: {shlex.join(self.command)}")
        if self.output:
            tail = self.output.strip().splitlines()[-15:]
            lines.append("  output (last lines):")
            lines.extend(f"    {line}" for line in tail)
        if self.log:
            lines.append(f"  full log: {self.log}")
        lines.append(f"  fix: {self.fix}")
        return "\n".join(lines)
