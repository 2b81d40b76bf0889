"""The error image builds raise: what failed, the command, and the fix."""

from __future__ import annotations

from kubelab_cluster.errors import StepError


class ImageError(StepError):
    area = "images"
