"""A real registry for the tests and images pushed to it: the shared helpers of
:mod:`kubelab_cluster.images.oci_registry` (the registry binary as a local process, layers,
manifests and indexes), plus the htpasswd entry (bcrypt) of a registry with authentication."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import bcrypt

from kubelab_cluster.images import oci_registry
from kubelab_cluster.images.oci_registry import (
    OCI_INDEX,
    OCI_MANIFEST,
    Registry,
    digest,
    layer,
    push_image,
    put_manifest,
    upload,
)

__all__ = [
    "OCI_INDEX",
    "OCI_MANIFEST",
    "Registry",
    "digest",
    "layer",
    "push_image",
    "put_manifest",
    "running_registry",
    "upload",
]


@contextmanager
def running_registry(work: Path, auth: tuple[str, str] | None = None) -> Iterator[Registry]:
    """The registry on a free port; with ``auth``, HTTP Basic against an htpasswd file of that user."""
    line = None
    if auth is not None:
        line = f"{auth[0]}:{bcrypt.hashpw(auth[1].encode(), bcrypt.gensalt()).decode()}"
    with oci_registry.running_registry(work, auth, line) as registry:
        yield registry
