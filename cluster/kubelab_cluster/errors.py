"""The error every build step raises: what failed, the command, its output, and the fix."""

from __future__ import annotations

import shlex
from collections.abc import Sequence


class StepError(RuntimeError):
    """A failed step, rendered as: ``<area>: building '<thing>' failed: <problem>`` + command, output, fix."""

    area = "kubelab"

    def __init__(
        self,
        thing: str,
        problem: str,
        fix: str,
        command: Sequence[str] | None = None,
        output: str = "",
        log: str | None = None,
    ) -> None:
        self.thing = thing
        self.problem = problem
        self.fix = fix
        self.command = list(command or [])
        self.output = output
        self.log = log
        super().__init__(self.render())

    def render(self) -> str:
        lines = [f"{self.area}: building {self.thing!r} failed: {self.problem}"]
        if self.command:
            lines.append(f"  command: {shlex.join(self.command)}")
        if self.output:
            lines.append("  output (last lines):")
            lines.extend(f"    {line}" for line in self.output.strip().splitlines()[-15:])
        if self.log:
            lines.append(f"  full log: {self.log}")
        lines.append(f"  fix: {self.fix}")
        return "\n".join(lines)
