"""Waiting for the cluster to converge, with the last observation in the failure.

``eventually`` lives in :mod:`kubelab_kit.testing` (the components' tests wait the same way).
"""

from __future__ import annotations

from kubelab_kit.testing import eventually

__all__ = ["eventually"]
