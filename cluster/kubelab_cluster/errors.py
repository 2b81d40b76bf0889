"""The error every build step raises: what failed, the command, its output, and the fix.

A :class:`kubelab_kit.errors.KubelabError` whose first line names the thing being built.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubelab_kit.errors import KubelabError


class StepError(KubelabError):
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
        super().__init__(problem, fix=fix, command=command, output=output, log=log)

    def headline(self) -> str:
        return f"building {self.thing!r} failed: {self.problem}"
