"""The live feed: each accepted report's row goes to every page open on its class. A page that
stops reading is dropped rather than allowed to hold the others up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

QUEUE = 256


class Feed:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}

    def publish(self, room: str, message: dict[str, Any]) -> None:
        for queue in list(self._subscribers.get(room, ())):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                self._subscribers[room].discard(queue)

    def subscribers(self, room: str) -> int:
        return len(self._subscribers.get(room, ()))

    async def follow(self, room: str) -> AsyncIterator[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE)
        self._subscribers.setdefault(room, set()).add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers[room].discard(queue)
