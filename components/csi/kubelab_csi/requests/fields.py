"""Required fields: a missing one is the caller's mistake, INVALID_ARGUMENT naming the field."""

from __future__ import annotations

from typing import Any

from kubelab_kit.grpc import InvalidArgument


def required(request: Any, *names: str) -> None:
    call = type(request).__name__.removesuffix("Request")
    for name in names:
        value = getattr(request, name)
        present = request.HasField(name) if hasattr(value, "ListFields") else bool(value)
        if not present:
            raise InvalidArgument(f"{call}: {name} is required")
