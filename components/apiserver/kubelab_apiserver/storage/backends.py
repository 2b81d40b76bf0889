"""Choosing a backend by URL: ``etcd://host:port`` or ``sqlite:///path`` (``sqlite://`` in memory)."""

from __future__ import annotations

from kubelab_apiserver.storage.etcd import EtcdStorage
from kubelab_apiserver.storage.interface import Storage
from kubelab_apiserver.storage.sqlite import SqliteStorage

SCHEMES = ("etcd://", "sqlite://")


def open_storage(url: str) -> Storage:
    if url.startswith("etcd://"):
        return EtcdStorage(url.removeprefix("etcd://"))
    if url.startswith("sqlite://"):
        return SqliteStorage(url.removeprefix("sqlite://") or ":memory:")
    raise ValueError(f"storage URL {url!r}: expected one of {', '.join(s + '...' for s in SCHEMES)}")
