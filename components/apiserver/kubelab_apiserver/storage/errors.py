"""What the storage interface can answer besides success, each with the API status it becomes.

The same five failures as the API server's ``storage.Interface`` (k8s.io/apiserver
``pkg/storage/errors.go``): the REST layer turns them into a ``Status`` without knowing
which backend raised them.
"""

from __future__ import annotations

from kubelab_kit.errors import KubelabError


class StorageError(KubelabError):
    """Base of the storage failures; ``code`` and ``reason`` are the ``Status`` it becomes."""

    area = "storage"
    code = 500
    reason = "InternalError"

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key

    def __str__(self) -> str:
        return self.problem


class NotFound(StorageError):
    code, reason = 404, "NotFound"


class AlreadyExists(StorageError):
    code, reason = 409, "AlreadyExists"


class Conflict(StorageError):
    """The object changed since the resourceVersion the writer read (optimistic concurrency)."""

    code, reason = 409, "Conflict"


class Expired(StorageError):
    """The resourceVersion (or continue token) is older than the compacted history: relist."""

    code, reason = 410, "Expired"


class TooLargeResourceVersion(StorageError):
    """A read asked for a resourceVersion the store has not reached yet."""

    code, reason = 504, "Timeout"


class Unavailable(StorageError):
    """The backend cannot be reached (etcd down)."""

    code, reason = 503, "ServiceUnavailable"
