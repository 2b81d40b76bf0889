"""The docs tooling's one error kind (rendered by :func:`kubelab_kit.entry.entry_point`)."""

from __future__ import annotations

from kubelab_kit.errors import KubelabError


class DocsError(KubelabError):
    area = "docs"
