"""A fake Kubernetes API server for ONE resource, on 127.0.0.1 and a random port (stdlib only).

It is for unit tests and benchmarks of the cache layer, not a conformance target: the lab
checks the real thing against a kind cluster. What it does like kube-apiserver:

* list (``limit``/``continue`` pages over a snapshot, ``resourceVersion`` semantics "0"/""/
  NotOlderThan, label and field selectors; items without kind/apiVersion, as in real lists);
* watch as a chunked stream of JSON lines: replay from a ``resourceVersion``, then live;
  ``ADDED``/``DELETED`` when an object starts/stops matching the selector;
  ``BOOKMARK`` on demand or every ``bookmark_interval``; ``timeoutSeconds``;
  a watch from a compacted RV gets ``ERROR`` with a ``Status`` code 410 "Expired";
* get / create / replace (409 on a stale ``resourceVersion``) / delete, and discovery.

And what a test needs to break it: :meth:`FakeApiServer.inject` a :class:`Fault` (an HTTP
status with ``Retry-After``, an ``ERROR`` event, a dropped or stalled connection, a request
held until an event is set); :meth:`expire_watches` (``ERROR`` 410 to every open watch and
compaction), :meth:`drop_watches` (cut every watch connection), :meth:`send_bookmark`.
Every request is recorded (:attr:`requests`) with its time, for backoff checks;
:meth:`wait_for` waits on a predicate without sleeping.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import queue
import select
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from kubelab_client.keys import meta_namespace_key
from kubelab_client.objects import KubeObject, failure_status, format_time, metadata
from kubelab_client.resources import CONFIGMAPS, Resource
from kubelab_client.selectors import Matcher, field_matcher, label_matcher

FaultTarget = Literal["list", "list-continue", "watch", "write", "get", "any"]


@dataclass
class Fault:
    """What to do to the next ``times`` matching requests, instead of (or before) serving them."""

    on: FaultTarget = "any"
    status: int | None = None  # answer this HTTP status with a Status body
    reason: str = ""
    retry_after: str | None = None
    drop: bool = False  # close the connection without a response
    stall: bool = False  # (watch) send the headers, then nothing until the server stops
    error_event: int | None = None  # (watch) 200, then an ERROR event with this code, then the end
    arrived: threading.Event | None = None  # set when the request arrives
    hold_until: threading.Event | None = None  # then serve normally once this is set
    times: int = 1


@dataclass(frozen=True)
class RequestRecord:
    at: float  # time.monotonic() when the request arrived
    method: str
    path: str
    query: dict[str, str]
    kind: str  # list, list-continue, watch, get, write, discovery, other
    status: int  # 0 when the connection was dropped


@dataclass
class _Change:
    rv: int
    old: KubeObject | None
    new: KubeObject | None


_CLOSE, _DROP, _EXPIRE = "close", "drop", "expire"


@dataclass(eq=False)
class _Watcher:
    matches: Matcher
    bookmarks: bool
    queue: queue.SimpleQueue[bytes | str] = field(default_factory=queue.SimpleQueue)


def _status(code: int, reason: str, message: str) -> KubeObject:
    return failure_status(code, reason, message)


_REASONS = {400: "BadRequest", 404: "NotFound", 409: "Conflict", 410: "Expired", 429: "TooManyRequests"}


class FakeApiServer:
    def __init__(
        self,
        resource: Resource = CONFIGMAPS,
        *,
        bookmark_interval: float | None = None,
        expired_watch_as_http: bool = False,
    ) -> None:
        self.resource = resource
        self.bookmark_interval = bookmark_interval
        self.expired_watch_as_http = expired_watch_as_http
        self.requests: list[RequestRecord] = []
        self._cond = threading.Condition(threading.RLock())
        self._objects: dict[str, KubeObject] = {}
        self._changes: list[_Change] = []
        self._rv = 1000
        self._floor = 0
        self._watchers: set[_Watcher] = set()
        self._faults: list[Fault] = []
        self._snapshots: dict[str, tuple[int, list[KubeObject]]] = {}
        self._uids = itertools.count(1)
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> FakeApiServer:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-apiserver", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._cond:
            for watcher in self._watchers:
                watcher.queue.put(_CLOSE)
            for fault in self._faults:
                if fault.hold_until:
                    fault.hold_until.set()
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> FakeApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd, "not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    # state, for tests
    @property
    def resource_version(self) -> int:
        with self._cond:
            return self._rv

    def objects(self) -> dict[str, KubeObject]:
        """A deep copy of the current state, by ``namespace/name``."""
        with self._cond:
            return copy.deepcopy(self._objects)

    def open_watches(self) -> int:
        with self._cond:
            return len(self._watchers)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Wait until ``predicate()`` holds; it is re-checked on every request and change."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
            return True

    def create(self, obj: KubeObject) -> KubeObject:
        with self._cond:
            obj = copy.deepcopy(obj)
            meta = obj.setdefault("metadata", {})
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = f"{meta['generateName']}{uuid.uuid4().hex[:5]}"
            if self.resource.namespaced:
                meta.setdefault("namespace", "default")
            key = meta_namespace_key(obj)
            if key in self._objects:
                raise _HTTPError(409, "AlreadyExists", f'{self.resource.plural} "{meta["name"]}" already exists')
            obj["kind"], obj["apiVersion"] = self.resource.kind, self.resource.api_version
            meta["uid"] = f"00000000-0000-0000-0000-{next(self._uids):012d}"
            meta["creationTimestamp"] = format_time(datetime.now(UTC))
            return self._commit(key, None, obj)

    def update(self, obj: KubeObject) -> KubeObject:
        with self._cond:
            obj = copy.deepcopy(obj)
            meta = obj.setdefault("metadata", {})
            if self.resource.namespaced:
                meta.setdefault("namespace", "default")
            key = meta_namespace_key(obj)
            old = self._objects.get(key)
            if old is None:
                raise _HTTPError(404, "NotFound", f'{self.resource.plural} "{meta.get("name")}" not found')
            sent_rv = meta.get("resourceVersion")
            if sent_rv and sent_rv != old["metadata"]["resourceVersion"]:
                raise _HTTPError(
                    409, "Conflict", "the object has been modified; please apply your changes to the latest version"
                )
            obj["kind"], obj["apiVersion"] = self.resource.kind, self.resource.api_version
            for kept in ("uid", "creationTimestamp"):
                meta[kept] = old["metadata"].get(kept)
            return self._commit(key, old, obj)

    def delete(self, namespace: str, name: str) -> KubeObject:
        key = f"{namespace}/{name}" if namespace else name
        with self._cond:
            old = self._objects.get(key)
            if old is None:
                raise _HTTPError(404, "NotFound", f'{self.resource.plural} "{name}" not found')
            return self._commit(key, old, None)

    def apply(
        self, namespace: str, name: str, data: dict[str, str], labels: dict[str, str] | None = None
    ) -> KubeObject:
        """Create or update a ConfigMap-shaped object (``data``), a test convenience."""
        with self._cond:
            key = f"{namespace}/{name}" if namespace else name
            current = self._objects.get(key)
            obj: KubeObject = {"metadata": {"name": name, "namespace": namespace}, "data": data}
            if labels is not None:
                obj["metadata"]["labels"] = labels
            elif current is not None and "labels" in current["metadata"]:
                obj["metadata"]["labels"] = current["metadata"]["labels"]
            return self.update(obj) if current is not None else self.create(obj)

    def _commit(self, key: str, old: KubeObject | None, new: KubeObject | None) -> KubeObject:
        self._rv += 1
        if new is None:  # a delete: the change carries the object as it was, at the deletion's RV
            assert old is not None
            result = copy.deepcopy(old)
            result["metadata"]["resourceVersion"] = str(self._rv)
            del self._objects[key]
            change = _Change(self._rv, result, None)
        else:
            new["metadata"]["resourceVersion"] = str(self._rv)
            self._objects[key] = result = new
            change = _Change(self._rv, old, new)
        self._changes.append(change)
        for watcher in self._watchers:
            line = self._event_line(watcher, change)
            if line is not None:
                watcher.queue.put(line)
        self._cond.notify_all()
        return copy.deepcopy(result)

    def _event_line(self, watcher: _Watcher, change: _Change) -> bytes | None:
        old_match = change.old is not None and watcher.matches(change.old)
        if change.new is None:  # a delete: change.old is the object at its deletion RV
            return _event("DELETED", change.old) if change.old is not None and old_match else None
        new_match = watcher.matches(change.new)
        if change.old is None or not old_match:
            return _event("ADDED", change.new) if new_match else None
        return _event("MODIFIED" if new_match else "DELETED", change.new)

    # breaking things
    def inject(self, fault: Fault) -> Fault:
        with self._cond:
            self._faults.append(fault)
        return fault

    def expire_watches(self) -> int:
        """Compact past the current RV and send ``ERROR`` 410 to every open watch; returns how many."""
        with self._cond:
            self._floor = self._rv + 1
            self._changes.clear()
            self._snapshots.clear()
            for watcher in self._watchers:
                watcher.queue.put(_EXPIRE)
            return len(self._watchers)

    def compact(self) -> None:
        """Forget history: a watch or list from an RV older than now gets 410."""
        with self._cond:
            self._floor = self._rv
            self._changes = [c for c in self._changes if c.rv >= self._floor]
            self._snapshots.clear()

    def drop_watches(self) -> int:
        """Cut every open watch connection (no final chunk); returns how many."""
        with self._cond:
            for watcher in self._watchers:
                watcher.queue.put(_DROP)
            return len(self._watchers)

    def send_bookmark(self) -> int:
        with self._cond:
            line = self._bookmark()
            targets = [w for w in self._watchers if w.bookmarks]
            for watcher in targets:
                watcher.queue.put(line)
            return len(targets)

    def _bookmark(self) -> bytes:
        obj = {"kind": self.resource.kind, "apiVersion": self.resource.api_version}
        obj["metadata"] = {"resourceVersion": str(self._rv)}  # type: ignore[assignment]
        return _event("BOOKMARK", obj)

    def _take_fault(self, kind: str) -> Fault | None:
        with self._cond:
            for fault in self._faults:
                if fault.on == kind or fault.on == "any" or (fault.on == "list" and kind == "list-continue"):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _record(self, record: RequestRecord) -> None:
        with self._cond:
            self.requests.append(record)
            self._cond.notify_all()

    def records(self, kind: str | None = None) -> list[RequestRecord]:
        with self._cond:
            return [r for r in self.requests if kind is None or r.kind == kind]

    # serving
    def list_body(self, query: dict[str, str], namespace: str | None) -> KubeObject:
        limit = int(query.get("limit") or 0)
        token = query.get("continue")
        with self._cond:
            if token:
                if token not in self._snapshots:
                    raise _HTTPError(410, "Expired", "the provided continue parameter is too old")
                rv, remaining = self._snapshots.pop(token)
            else:
                rv_query = query.get("resourceVersion", "")
                if query.get("resourceVersionMatch") == "Exact" and rv_query and int(rv_query) != self._rv:
                    raise _HTTPError(410, "Expired", f"too old resource version: {rv_query} ({self._rv})")
                if rv_query not in ("", "0") and int(rv_query) > self._rv:
                    raise _HTTPError(504, "Timeout", f"Too large resource version: {rv_query}, current: {self._rv}")
                matches = _matcher(query, namespace)
                rv = self._rv
                remaining = [copy.deepcopy(o) for _, o in sorted(self._objects.items()) if matches(o)]
            page = remaining[:limit] if limit else remaining
            rest = remaining[len(page) :]
            meta: dict[str, Any] = {"resourceVersion": str(rv)}
            if rest:
                next_token = uuid.uuid4().hex
                self._snapshots[next_token] = (rv, rest)
                meta["continue"] = next_token
                meta["remainingItemCount"] = len(rest)
        for item in page:  # items in a real list carry no kind/apiVersion
            item.pop("kind", None)
            item.pop("apiVersion", None)
        return {
            "kind": f"{self.resource.kind}List",
            "apiVersion": self.resource.api_version,
            "metadata": meta,
            "items": page,
        }

    def open_watch(self, query: dict[str, str], namespace: str | None) -> tuple[_Watcher | None, list[bytes]]:
        """Register a watcher and return the events to replay first; (None, [ERROR]) if expired."""
        rv_query = query.get("resourceVersion", "")
        with self._cond:
            watcher = _Watcher(_matcher(query, namespace), query.get("allowWatchBookmarks") in ("true", "1"))
            if rv_query in ("", "0"):
                replay = [
                    _event("ADDED", o) for _, o in sorted(self._objects.items()) if watcher.matches(o)
                ]  # synthetic adds, then live
            else:
                since = int(rv_query)
                if since < self._floor:
                    message = f"too old resource version: {since} ({self._floor})"
                    if self.expired_watch_as_http:
                        raise _HTTPError(410, "Expired", message)
                    return None, [_event("ERROR", _status(410, "Expired", message))]
                replay = [
                    line
                    for change in self._changes
                    if change.rv > since and (line := self._event_line(watcher, change)) is not None
                ]
            self._watchers.add(watcher)
            self._cond.notify_all()
            return watcher, replay

    def close_watch(self, watcher: _Watcher) -> None:
        with self._cond:
            self._watchers.discard(watcher)
            self._cond.notify_all()

    def bookmark_if_idle(self, watcher: _Watcher) -> bytes | None:
        with self._cond:
            if watcher.bookmarks and watcher.queue.empty():
                return self._bookmark()
            return None

    def discovery(self, path: str) -> KubeObject | None:
        r = self.resource
        if path == r.prefix:
            return {
                "kind": "APIResourceList",
                "apiVersion": "v1",
                "groupVersion": r.api_version,
                "resources": [
                    {
                        "name": r.plural,
                        "singularName": r.kind.lower(),
                        "namespaced": r.namespaced,
                        "kind": r.kind,
                        "verbs": ["create", "delete", "get", "list", "update", "watch"],
                    }
                ],
            }
        if r.group and path == f"/apis/{r.group}":
            version = {"groupVersion": r.api_version, "version": r.version}
            return {
                "kind": "APIGroup",
                "apiVersion": "v1",
                "name": r.group,
                "versions": [version],
                "preferredVersion": version,
            }
        return None


class _HTTPError(Exception):
    def __init__(self, code: int, reason: str, message: str, retry_after: str | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.retry_after = code, reason, message, retry_after


def _event(type_: str, obj: KubeObject) -> bytes:
    return json.dumps({"type": type_, "object": obj}, separators=(",", ":")).encode() + b"\n"


def _matcher(query: dict[str, str], namespace: str | None) -> Matcher:
    labels_ok = label_matcher(query.get("labelSelector"))
    fields_ok = field_matcher(query.get("fieldSelector"))
    return lambda obj: (
        (namespace is None or metadata(obj).get("namespace") == namespace) and labels_ok(obj) and fields_ok(obj)
    )


class _Handler(BaseHTTPRequestHandler):
    fake: FakeApiServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return None

    # routing
    def _route(self) -> tuple[str, str | None, str | None, dict[str, str]]:
        """→ (kind, namespace, name, query); kind in list/watch/get/write/discovery/other."""
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        path = parts.path.rstrip("/")
        prefix = self.fake.resource.prefix
        if not path.startswith(prefix + "/"):
            return "discovery", None, None, query
        rest = [unquote(p) for p in path[len(prefix) + 1 :].split("/")]
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        if not rest or rest[0] != self.fake.resource.plural or len(rest) > 2:
            return "other", namespace, None, query
        name = rest[1] if len(rest) == 2 else None
        if self.command == "GET" and name is None:
            if query.get("watch") in ("1", "true"):
                return "watch", namespace, None, query
            return ("list-continue" if query.get("continue") else "list"), namespace, None, query
        if self.command == "GET":
            return "get", namespace, name, query
        return "write", namespace, name, query

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        fake = self.fake
        arrived = time.monotonic()
        kind, namespace, name, query = self._route()
        body = self._read_body()
        path = urlsplit(self.path).path

        def record(status: int) -> None:
            fake._record(RequestRecord(arrived, self.command, path, query, kind, status))

        fault = fake._take_fault(kind)
        if fault is not None:
            if fault.arrived:
                fault.arrived.set()
            if fault.hold_until:
                fault.hold_until.wait()
            if fault.drop:
                record(0)
                self._drop()
                return
            if fault.status is not None:
                record(fault.status)
                reason = fault.reason or _REASONS.get(fault.status, "InternalError")
                self._send_json(fault.status, _status(fault.status, reason, "injected fault"), fault.retry_after)
                return
            if kind == "watch" and (fault.stall or fault.error_event is not None):
                record(200)
                self._start_stream()
                if fault.error_event is not None:
                    reason = "Expired" if fault.error_event == 410 else _REASONS.get(fault.error_event, "InternalError")
                    self._chunk(_event("ERROR", _status(fault.error_event, reason, "injected ERROR event")))
                    self._end_stream()
                else:
                    fake._stopping.wait()
                    self.close_connection = True
                return
        try:
            if kind == "watch":
                self._watch(query, namespace, record)
                return
            if kind in ("list", "list-continue"):
                result = fake.list_body(query, namespace)
            elif kind == "get":
                assert name is not None
                key = f"{namespace}/{name}" if namespace else name
                found = fake.objects().get(key)
                if found is None:
                    raise _HTTPError(404, "NotFound", f'{fake.resource.plural} "{name}" not found')
                result = found
            elif kind == "write":
                result = self._write(namespace, name, body)
            elif kind == "discovery" and (found := fake.discovery(path.rstrip("/"))) is not None:
                result = found
            else:
                raise _HTTPError(404, "NotFound", f"the server could not find the requested resource ({path})")
        except _HTTPError as exc:
            record(exc.code)
            self._send_json(exc.code, _status(exc.code, exc.reason, exc.message), exc.retry_after)
            return
        status = 201 if self.command == "POST" else 200
        record(status)
        self._send_json(status, result)

    def _write(self, namespace: str | None, name: str | None, body: KubeObject | None) -> KubeObject:
        fake = self.fake
        if self.command == "DELETE" and name:
            return fake.delete(namespace or "", name)
        if body is None:
            raise _HTTPError(400, "BadRequest", "a body is required")
        meta = body.setdefault("metadata", {})
        if namespace:
            if meta.get("namespace") not in (None, namespace):
                raise _HTTPError(400, "BadRequest", "the namespace of the object does not match the request")
            meta["namespace"] = namespace
        if self.command == "POST" and name is None:
            return fake.create(body)
        if self.command == "PUT" and name:
            if meta.get("name") != name:
                raise _HTTPError(400, "BadRequest", "the name of the object does not match the request")
            return fake.update(body)
        raise _HTTPError(405, "MethodNotAllowed", f"{self.command} not allowed here")

    def _watch(self, query: dict[str, str], namespace: str | None, record: Callable[[int], None]) -> None:
        fake = self.fake
        try:
            watcher, replay = fake.open_watch(query, namespace)
        except _HTTPError as exc:
            record(exc.code)
            self._send_json(exc.code, _status(exc.code, exc.reason, exc.message))
            return
        record(200)
        self._start_stream()
        if watcher is None:  # expired: one ERROR event, then the end
            for line in replay:
                self._chunk(line)
            self._end_stream()
            return
        timeout = float(query["timeoutSeconds"]) if query.get("timeoutSeconds") else None
        deadline = time.monotonic() + timeout if timeout else None
        interval = fake.bookmark_interval
        next_bookmark = time.monotonic() + interval if interval else None
        try:
            for line in replay:
                self._chunk(line)
            while True:
                now = time.monotonic()
                waits = [t - now for t in (deadline, next_bookmark) if t is not None]
                try:
                    # wake up now and then to notice a client that went away while idle
                    item = watcher.queue.get(timeout=max(0.0, min([*waits, 0.1])))
                except queue.Empty:
                    if self._client_gone():
                        return
                    if deadline is not None and time.monotonic() >= deadline:
                        self._end_stream()
                        return
                    if next_bookmark is not None and interval is not None:
                        next_bookmark = time.monotonic() + interval
                        if (bookmark := fake.bookmark_if_idle(watcher)) is not None:
                            self._chunk(bookmark)
                    continue
                if item == _CLOSE:
                    self._end_stream()
                    return
                if item == _DROP:
                    self._drop()
                    return
                if item == _EXPIRE:
                    self._chunk(_event("ERROR", _status(410, "Expired", "too old resource version")))
                    self._end_stream()
                    return
                assert isinstance(item, bytes)
                self._chunk(item)
        except OSError:  # the client went away
            self.close_connection = True
        finally:
            fake.close_watch(watcher)

    # HTTP plumbing
    def _client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _read_body(self) -> KubeObject | None:
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return None
        try:
            decoded = json.loads(self.rfile.read(length))
        except ValueError:
            return None
        return decoded if isinstance(decoded, dict) else None

    def _send_json(self, code: int, body: Any, retry_after: str | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.end_headers()
        self.wfile.write(data)

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _end_stream(self) -> None:
        with contextlib.suppress(OSError):
            self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
