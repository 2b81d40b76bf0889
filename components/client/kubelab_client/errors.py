"""Errors of the client layer, independent of the HTTP library underneath."""

from __future__ import annotations

from typing import Any

from kubelab_kit.errors import KubelabError


class ClientError(KubelabError):
    """Base class of every error this package raises.

    A :class:`~kubelab_kit.errors.KubelabError` (area ``client``): console entry points
    report it rendered; inside the library ``str(exc)`` stays the bare message.
    """

    area = "client"

    def __str__(self) -> str:
        return self.problem


class ApiError(ClientError):
    """The API server answered with a failure: an HTTP status >= 400, or a watch ``ERROR`` event.

    ``status`` is the HTTP code (or the ``code`` of the ``Status`` object in an ``ERROR``
    event), ``reason`` the machine-readable reason (``Expired``, ``Gone``, ``Conflict``…),
    ``retry_after`` the server's ``Retry-After`` in seconds, when it sent one.
    """

    def __init__(
        self, status: int, reason: str = "", message: str = "", *, retry_after: float | None = None, body: Any = None
    ) -> None:
        super().__init__(f"{status} {reason}: {message}".strip())
        self.status = status
        self.reason = reason
        self.message = message
        self.retry_after = retry_after
        self.body = body

    @classmethod
    def from_status(cls, status: dict[str, Any], *, http_status: int = 0, retry_after: float | None = None) -> ApiError:
        """Build from a ``meta/v1 Status`` object (a failed response body or an ``ERROR`` event)."""
        code = status.get("code")
        return cls(
            int(code) if isinstance(code, int) and code else http_status,
            str(status.get("reason") or ""),
            str(status.get("message") or ""),
            retry_after=retry_after,
            body=status,
        )

    @property
    def is_gone(self) -> bool:
        """410: the resourceVersion (or continue token) is older than what the server keeps."""
        return self.status == 410

    @property
    def is_conflict(self) -> bool:
        return self.status == 409

    @property
    def is_not_found(self) -> bool:
        return self.status == 404

    @property
    def is_already_exists(self) -> bool:
        return self.status == 409 and self.reason == "AlreadyExists"

    @property
    def is_too_many_requests(self) -> bool:
        return self.status == 429


class ConnectionLost(ClientError):
    """The connection failed, dropped, or a read timed out: nothing trustworthy came back."""


class ShortWatch(ClientError):
    """A watch ended normally but at once, with no event: treated as an error, so it backs off."""


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (the API server sends whole seconds; fractions accepted)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP-date: the API server never sends one
    return max(0.0, seconds)
