"""The etcd backend, through aetcd (etcd v3 over gRPC, asyncio; chosen over etcd3, unmaintained since
2020 and broken on protobuf 4, and etcd3gw, which goes through the HTTP gateway and has no asyncio).

Each write is one etcd transaction that compares before it acts, as the API server's etcd3 store
does: create compares the key's ``version`` with 0, update and delete compare its ``mod_revision``
with the resourceVersion the writer read; the failure branch reads the key, to tell a conflict
from a missing object. resourceVersions are etcd's revisions. A list's first page is read at the
current revision and the continue token pins the next pages to it; watches start at
``after + 1`` and ask for the previous value, so a deletion carries the object's last state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aetcd
import aetcd.exceptions
import aetcd.rpc

from kubelab_apiserver.storage.errors import (
    AlreadyExists,
    Conflict,
    NotFound,
    StorageError,
    TooLargeResourceVersion,
    Unavailable,
)
from kubelab_apiserver.storage.interface import (
    Event,
    EventType,
    Object,
    Page,
    conflict_message,
    decode,
    encode,
    expired_continue,
    parse_continue,
    too_old,
)
from kubelab_apiserver.storage.interface import continue_token as make_continue


def prefix_end(prefix: bytes) -> bytes:
    return aetcd.utils.prefix_range_end(prefix)  # type: ignore[no-any-return]


class EtcdStorage:
    name = "etcd"

    def __init__(self, endpoint: str = "127.0.0.1:2379", *, timeout: float = 10.0) -> None:
        host, _, port = endpoint.removeprefix("http://").rpartition(":")
        self.endpoint = endpoint
        self._client = aetcd.Client(host=host or "127.0.0.1", port=int(port), timeout=timeout)

    async def _kv(self) -> Any:
        try:
            await self._client.connect()
        except aetcd.exceptions.ClientError as exc:
            raise Unavailable("", f"etcd at {self.endpoint}: {exc}") from exc
        return self._client.kvstub

    async def _call(self, what: str, key: str, request: Any) -> Any:
        kv = await self._kv()
        try:
            return await getattr(kv, what)(request, timeout=self._client._timeout)
        except aetcd.rpc.AioRpcError as exc:
            details = exc.details() or str(exc.code())
            if "compacted" in details:
                raise StorageError(key, details) from exc  # the caller knows what was asked
            if "future rev" in details:
                raise TooLargeResourceVersion(key, f"Too large resource version: {details}") from exc
            raise Unavailable(key, f"etcd at {self.endpoint}: {details}") from exc

    # -- transactions -----------------------------------------------------------------------------
    @staticmethod
    def _compare(key: bytes, target: str, value: int) -> Any:
        compare = aetcd.rpc.Compare(key=key, result=aetcd.rpc.Compare.EQUAL)
        if target == "version":
            compare.target, compare.version = aetcd.rpc.Compare.VERSION, value
        else:
            compare.target, compare.mod_revision = aetcd.rpc.Compare.MOD, value
        return compare

    @staticmethod
    def _get_op(key: bytes) -> Any:
        return aetcd.rpc.RequestOp(request_range=aetcd.rpc.RangeRequest(key=key))

    async def _txn(self, key: str, compare: list[Any], success: list[Any]) -> tuple[bool, Any]:
        """Run a transaction whose failure branch reads ``key``; (succeeded, response)."""
        request = aetcd.rpc.TxnRequest(compare=compare, success=success, failure=[self._get_op(key.encode())])
        response = await self._call("Txn", key, request)
        return bool(response.succeeded), response

    @staticmethod
    def _found(response: Any) -> Any | None:
        kvs = response.responses[0].response_range.kvs
        return kvs[0] if kvs else None

    async def create(self, key: str, obj: Object) -> Object:
        data, k = encode(obj), key.encode()
        put = aetcd.rpc.RequestOp(request_put=aetcd.rpc.PutRequest(key=k, value=data))
        ok, response = await self._txn(key, [self._compare(k, "version", 0)], [put])
        if not ok:
            raise AlreadyExists(key, f"{key} already exists")
        return decode(data, response.header.revision)

    async def update(self, key: str, obj: Object, *, expected: int) -> Object:
        data, k = encode(obj), key.encode()
        put = aetcd.rpc.RequestOp(request_put=aetcd.rpc.PutRequest(key=k, value=data))
        ok, response = await self._txn(key, [self._compare(k, "mod", expected)], [put])
        if not ok:
            found = self._found(response)
            if found is None:
                raise NotFound(key, f"{key} not found")
            raise Conflict(key, conflict_message(key, expected, found.mod_revision))
        return decode(data, response.header.revision)

    async def delete(self, key: str, *, expected: int | None = None) -> Object:
        k = key.encode()
        if expected is not None:
            compare = [self._compare(k, "mod", expected)]
        else:  # it exists: version > 0
            compare = [aetcd.rpc.Compare(key=k, result=aetcd.rpc.Compare.GREATER, target=aetcd.rpc.Compare.VERSION)]
        delete = aetcd.rpc.RequestOp(request_delete_range=aetcd.rpc.DeleteRangeRequest(key=k, prev_kv=True))
        ok, response = await self._txn(key, compare, [delete])
        if not ok:
            found = self._found(response)
            if found is None:
                raise NotFound(key, f"{key} not found")
            raise Conflict(key, conflict_message(key, expected or 0, found.mod_revision))
        previous = response.responses[0].response_delete_range.prev_kvs[0]
        return decode(previous.value, response.header.revision)

    # -- reads ------------------------------------------------------------------------------------
    async def get(self, key: str) -> Object:
        response = await self._call("Range", key, aetcd.rpc.RangeRequest(key=key.encode()))
        if not response.kvs:
            raise NotFound(key, f"{key} not found")
        kv = response.kvs[0]
        return decode(kv.value, kv.mod_revision)

    async def list(self, prefix: str, *, limit: int = 0, continue_token: str = "") -> Page:
        start, revision = prefix, 0
        if continue_token:
            revision, start = parse_continue(continue_token, prefix)
        request = aetcd.rpc.RangeRequest(
            key=start.encode(), range_end=prefix_end(prefix.encode()), limit=limit, revision=revision
        )
        try:
            response = await self._call("Range", prefix, request)
        except StorageError as exc:
            if "compacted" in str(exc):
                raise expired_continue(prefix, revision) from exc
            raise
        at = revision or response.header.revision
        items = [decode(kv.value, kv.mod_revision) for kv in response.kvs]
        token = ""
        remaining = 0
        if response.more and response.kvs:
            token = make_continue(at, response.kvs[-1].key.decode() + "\x00")
            remaining = int(response.count) - len(response.kvs)
        return Page(items, at, token, remaining)

    async def revision(self) -> int:
        response = await self._call("Range", "", aetcd.rpc.RangeRequest(key=b"\x00", count_only=True))
        return int(response.header.revision)

    async def compact(self, revision: int) -> None:
        kv = await self._kv()
        try:
            await kv.Compact(aetcd.rpc.CompactionRequest(revision=revision, physical=True))
        except aetcd.rpc.AioRpcError as exc:
            details = exc.details() or ""
            if "future rev" in details:
                raise TooLargeResourceVersion("", f"cannot compact at {revision}: {details}") from exc
            if "compacted" not in details:  # compacting again at or below: nothing to do
                raise Unavailable("", f"etcd at {self.endpoint}: {details}") from exc

    async def watch(self, prefix: str, after: int) -> AsyncIterator[Event]:
        await self._kv()
        k = prefix.encode()
        try:
            watch = await self._client.watch(k, range_end=prefix_end(k), start_revision=after + 1, prev_kv=True)
        except aetcd.exceptions.RevisionCompactedError as exc:
            raise too_old(prefix, after, exc.compacted_revision) from exc
        try:
            async for change in watch:
                kv, key = change.kv, change.kv.key.decode()
                if change.kind == "DELETE":
                    last = change.prev_kv.value if change.prev_kv is not None else b"{}"
                    yield Event("DELETED", key, decode(last, kv.mod_revision), kv.mod_revision)
                else:
                    kind: EventType = "ADDED" if kv.create_revision == kv.mod_revision else "MODIFIED"
                    yield Event(kind, key, decode(kv.value, kv.mod_revision), kv.mod_revision)
        except aetcd.exceptions.RevisionCompactedError as exc:
            raise too_old(prefix, after, exc.compacted_revision) from exc
        except aetcd.exceptions.ClientError as exc:
            raise Unavailable(prefix, f"etcd at {self.endpoint}: watch ended: {exc}") from exc
        finally:
            await watch.cancel()

    async def close(self) -> None:
        await self._client.close()
