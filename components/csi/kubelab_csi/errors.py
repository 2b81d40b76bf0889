"""Errors of the driver's own machinery (the pool, the tools it runs); calls answer with gRPC statuses."""

from __future__ import annotations

from kubelab_kit.errors import KubelabError


class StorageError(KubelabError):
    """A storage command (btrfs, losetup, mount) failed; carries the command and its output."""

    area = "csi"
