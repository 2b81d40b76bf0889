"""List pagination: the token is the last ID of the page before, so deletions in between are harmless."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from kubelab_csi.storage.records import key
from kubelab_kit.grpc import Aborted, InvalidArgument

T = TypeVar("T")


def page(items: Sequence[T], id_of: Callable[[T], str], starting_token: str, max_entries: int) -> tuple[list[T], str]:
    """The page of ``items`` (sorted by ID) after ``starting_token``, and the next token ("" at the end)."""
    if max_entries < 0:
        raise InvalidArgument(f"max_entries cannot be negative ({max_entries})")
    if starting_token and key(starting_token) is None:
        raise Aborted(f"starting_token {starting_token!r} was not issued by this driver")
    rest = [item for item in items if not starting_token or id_of(item) > starting_token]
    if max_entries and len(rest) > max_entries:
        chosen = rest[:max_entries]
        return chosen, id_of(chosen[-1])
    return list(rest), ""
