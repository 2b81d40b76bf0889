"""The one error base: what broke, the command that broke, its output, and the fix.

Every error a user can hit derives from :class:`KubelabError`, so every console entry
point reports them the same way (:func:`kubelab_kit.entry.entry_point`) and every
message ends with what to do next. Rendered::

    <area>: <problem>
      command: <the command, shell-quoted>
      output (last lines):
        <the last 15 lines>
      full log: <path>
      fix: <what to run or change>
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

OUTPUT_LINES = 15


class KubelabError(Exception):
    """A failure a user can act on. Subclasses set :attr:`area` (``toolchain``, ``host``, ``cni``, ...)."""

    area = "kubelab"
    exit_code = 1

    def __init__(
        self,
        problem: str,
        *,
        fix: str = "",
        command: Sequence[str] | None = None,
        output: str = "",
        log: str | None = None,
    ) -> None:
        self.problem = problem
        self.fix = fix
        self.command = list(command or [])
        self.output = output
        self.log = log
        super().__init__(self.render())

    def headline(self) -> str:
        """The first line, after the area; subclasses may phrase it (e.g. "building X failed: ...")."""
        return self.problem

    def render(self) -> str:
        lines = [f"{self.area}: {self.headline()}"]
        if self.command:
            lines.append(f"  command: {shlex.join(self.command)}")
        if self.output.strip():
            lines.append("  output (last lines):")
            lines.extend(f"    {line}" for line in self.output.strip().splitlines()[-OUTPUT_LINES:])
        if self.log:
            lines.append(f"  full log: {self.log}")
        if self.fix:
            lines.append(f"  fix: {self.fix}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()
