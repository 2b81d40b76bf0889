"""The errors of creating, checking and using the kind cluster (area ``cluster``).

A :class:`kubelab_kit.errors.KubelabError`, and a ``RuntimeError`` for callers that catch that.
"""

from __future__ import annotations

from kubelab_kit.errors import KubelabError


class ClusterError(KubelabError, RuntimeError):
    area = "cluster"
