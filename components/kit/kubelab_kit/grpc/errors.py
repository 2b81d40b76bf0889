"""Errors of the gRPC scaffold, and statuses a servicer ends a call with.

- :class:`GrpcError`: serving or connecting failed (socket in use, channel not ready, ...);
  a :class:`~kubelab_kit.errors.KubelabError` with area ``grpc`` and a fix.
- :class:`GrpcStatusError` and its subclasses (:class:`NotFound`, :class:`InvalidArgument`,
  ...): raise one in a servicer and the call ends with that status code and the message as
  its details, in the protocol's own form; the client sees ``NOT_FOUND: sandbox x not found``.
  The :class:`~kubelab_kit.grpc.calls.CallInterceptor` every :class:`~kubelab_kit.grpc.server.Server`
  installs does the translation.
- :func:`abort`: the same from code that holds the context and prefers a call to a raise.
"""

from __future__ import annotations

from typing import Any, NoReturn

import grpc

from kubelab_kit.errors import KubelabError


class GrpcError(KubelabError):
    """Serving or reaching a gRPC service failed; the message says what to do."""

    area = "grpc"


class GrpcStatusError(GrpcError):
    """Ends the current call with :attr:`code` and :attr:`details` when raised in a servicer.

    Subclasses fix the code; the base takes it as an argument (``code=grpc.StatusCode.DATA_LOSS``).
    ``OK`` is refused: an error is never a success.
    """

    code: Any = grpc.StatusCode.UNKNOWN
    retryable = False  # whether a client may retry the same call (UNAVAILABLE, ABORTED, RESOURCE_EXHAUSTED)

    def __init__(self, message: str, *, fix: str = "", code: Any = None) -> None:
        if code is not None:
            self.code = code
        if self.code == grpc.StatusCode.OK:
            raise ValueError("a GrpcStatusError cannot carry StatusCode.OK")
        super().__init__(message, fix=fix)

    @property
    def details(self) -> str:
        """What the client receives as the status details: the message, then the fix if any."""
        return f"{self.problem} (fix: {self.fix})" if self.fix else self.problem

    def headline(self) -> str:
        return f"{self.code.name}: {self.problem}"


# The caller's mistakes: retrying the same call cannot help.
class InvalidArgument(GrpcStatusError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(GrpcStatusError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(GrpcStatusError):
    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(GrpcStatusError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class OutOfRange(GrpcStatusError):
    code = grpc.StatusCode.OUT_OF_RANGE


# Transient: a client may retry (with backoff), as gRPC's retry guidance says.
class Unavailable(GrpcStatusError):
    code = grpc.StatusCode.UNAVAILABLE
    retryable = True


class Aborted(GrpcStatusError):
    code = grpc.StatusCode.ABORTED
    retryable = True


class ResourceExhausted(GrpcStatusError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    retryable = True


# The server's side.
class Unimplemented(GrpcStatusError):
    code = grpc.StatusCode.UNIMPLEMENTED


class Internal(GrpcStatusError):
    code = grpc.StatusCode.INTERNAL


def abort(context: Any, code: Any, message: str, *args: object) -> NoReturn:
    """End the call now with ``code`` and ``message % args`` (printf-style, as in logging).

    Never returns: grpc's ``context.abort`` raises, and the raise unwinds the servicer.
    """
    context.abort(code, message % args if args else message)
    raise AssertionError("grpc's context.abort returned")  # pragma: no cover - it always raises
