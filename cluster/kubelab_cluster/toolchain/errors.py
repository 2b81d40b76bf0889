"""The one error the toolchain raises: it names the artifact, the command and the fix."""

from __future__ import annotations

from kubelab_cluster.errors import StepError


class ToolchainError(StepError):
    area = "toolchain"

    @property
    def artifact(self) -> str:
        return self.thing
