"""The one error generation raises: what went wrong, the protoc output, and the fix."""

from __future__ import annotations


class ProtosError(RuntimeError):
    def __init__(self, problem: str, fix: str, output: str = "") -> None:
        self.problem = problem
        self.fix = fix
        self.output = output
        super().__init__(self.render())

    def render(self) -> str:
        lines = [f"protos: {self.problem}"]
        if self.output:
            tail = self.output.strip().splitlines()[-15:]
            lines.append("  protoc said:")
            lines.extend(f"    {line}" for line in tail)
        lines.append(f"  fix: {self.fix}")
        return "\n".join(lines)
