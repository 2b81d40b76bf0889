"""Compacting the storage's history the way kube-apiserver does: every ``interval`` seconds, compact
at the revision seen one interval ago, so a watcher or a paging client always has at least one
interval to catch up before its resourceVersion is answered with 410 Expired."""

from __future__ import annotations

import asyncio
import logging

from kubelab_apiserver.storage import Storage, StorageError

log = logging.getLogger(__name__)


async def compact_forever(storage: Storage, interval: float) -> None:
    previous = 0
    while True:
        await asyncio.sleep(interval)
        try:
            current = await storage.revision()
            if previous:
                await storage.compact(previous)
                log.info("compacted the %s storage at revision %d", storage.name, previous)
            previous = current
        except StorageError as exc:
            log.warning("compaction: %s", exc)
