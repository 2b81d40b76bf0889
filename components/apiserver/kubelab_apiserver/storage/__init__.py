"""Chapter 7.5: the storage interface of the aggregated server and its two backends (etcd, SQLite)."""

from kubelab_apiserver.storage.errors import (
    AlreadyExists,
    Conflict,
    Expired,
    NotFound,
    StorageError,
    TooLargeResourceVersion,
    Unavailable,
)
from kubelab_apiserver.storage.interface import Event, Object, Page, Storage, guaranteed_update

__all__ = [
    "AlreadyExists",
    "Conflict",
    "Event",
    "Expired",
    "NotFound",
    "Object",
    "Page",
    "Storage",
    "StorageError",
    "TooLargeResourceVersion",
    "Unavailable",
    "guaranteed_update",
]
