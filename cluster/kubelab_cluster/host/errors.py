"""The errors of host checks and setup: :class:`kubelab_kit.errors.KubelabError` with area ``host``.

They stay ``RuntimeError`` too, for callers that catch that.
"""

from __future__ import annotations

from kubelab_kit.errors import KubelabError


class HostError(KubelabError, RuntimeError):
    area = "host"
