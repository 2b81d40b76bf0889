"""The errors the toolchain raises: a build's names the artifact, the command and the fix; a
release check's names the file and the digests that disagree."""

from __future__ import annotations

from kubelab_cluster.errors import StepError
from kubelab_kit.errors import KubelabError


class ToolchainError(StepError):
    area = "toolchain"

    @property
    def artifact(self) -> str:
        return self.thing


class ReleaseError(KubelabError):
    """A release folder that does not match its manifest (or a manifest that cannot be read)."""

    area = "release"
