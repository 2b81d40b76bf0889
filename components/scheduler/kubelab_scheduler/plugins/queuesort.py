"""PrioritySort: the active queue orders by priority (higher first), then by when the pod was queued."""

from __future__ import annotations

from typing import Any

from kubelab_scheduler.framework.runtime import Handle


class PrioritySort:
    name = "PrioritySort"

    def __init__(self, args: dict[str, Any], handle: Handle) -> None:
        pass

    def less(self, a: Any, b: Any) -> bool:
        """``a`` and ``b`` are queued pod infos (``priority``, ``timestamp``)."""
        if a.priority != b.priority:
            return bool(a.priority > b.priority)
        return bool(a.timestamp < b.timestamp)
