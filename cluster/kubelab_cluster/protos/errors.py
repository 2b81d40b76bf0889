"""The error generation raises: what broke, protoc's output, and the fix."""

from __future__ import annotations

from kubelab_kit.errors import KubelabError


class ProtosError(KubelabError):
    """Rendered as ``protos: <problem>`` + protoc's output (last lines) + ``fix: ...``."""

    area = "protos"
