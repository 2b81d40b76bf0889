"""The HTTP face of the aggregated server (FastAPI): every request is authenticated, its
RequestInfo authorized, then routed to discovery, OpenAPI or a resource's REST store; failures
are ``Status`` objects with their codes, warnings go in ``Warning`` headers, watches stream one
JSON event per line.

Paths: ``/apis`` ``/apis/<g>`` ``/apis/<g>/<v>`` (discovery), ``/openapi/v2`` ``/openapi/v3[/apis/<g>/<v>]``,
``/healthz`` ``/livez`` ``/readyz``, and ``/apis/<g>/<v>[/namespaces/<ns>]/<resource>[/<name>[/status]]``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from fastapi import FastAPI, Request
from fastapi.responses import Response, StreamingResponse

from kubelab_apiserver.aggregated import discovery, openapi, tables
from kubelab_apiserver.aggregated.negotiation import Wanted, negotiate
from kubelab_apiserver.aggregated.registry import Options, Selection, Store
from kubelab_apiserver.aggregated.requestinfo import RequestInfo, request_info
from kubelab_apiserver.aggregated.resources import Object, ResourceType
from kubelab_apiserver.aggregated.status import StatusError, bad_request, method_not_supported
from kubelab_apiserver.aggregated.validation import field_validation
from kubelab_apiserver.auth.authenticator import Authenticator
from kubelab_apiserver.auth.authorizer import Authorizer
from kubelab_apiserver.auth.requestheader import is_identity_header
from kubelab_apiserver.auth.user import User
from kubelab_apiserver.serving import PEER_CERT

log = logging.getLogger(__name__)
MAX_BODY = 3 * 1024 * 1024  # kube-apiserver's limit on a request body
OBJECT_VIEWS = ("Table", "PartialObjectMetadata", "PartialObjectMetadataList")


@dataclass
class Server:
    resources: Sequence[ResourceType]
    stores: dict[tuple[str, str], Store]  # (group/version, plural) → store
    authenticator: Authenticator
    authorizer: Authorizer
    ready: Callable[[], str] = lambda: ""  # "" when ready, else why not
    watch_timeout: float = 1800.0
    bookmark_every: float = 60.0
    request_log: list[str] = field(default_factory=list)


def _json(
    body: Any, code: int = 200, *, content_type: str = "application/json", warnings: Sequence[str] = ()
) -> Response:
    headers = {"Warning": ", ".join(f'299 - "{w.replace(chr(34), chr(39))}"' for w in warnings)} if warnings else None
    return Response(json.dumps(body, separators=(",", ":")), code, headers=headers, media_type=content_type)


def _status(error: StatusError) -> Response:
    return _json(error.status, error.code)


def create_app(server: Server) -> FastAPI:
    app = FastAPI(title="kubelab aggregated API server", docs_url=None, redoc_url=None, openapi_url=None)

    @app.api_route("/{path:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
    async def dispatch(request: Request, path: str) -> Response:
        query = dict(request.query_params)
        info = request_info(request.method, request.url.path, query)
        try:
            headers = [(k.decode().lower(), v.decode()) for k, v in request.scope["headers"]]
            user = await server.authenticator.authenticate(request.scope.get(PEER_CERT), headers)
            if user is None:
                raise StatusError(401, "Unauthorized", "Unauthorized")
            decision = await server.authorizer.authorize(user, info)
            if not decision.allowed:
                raise _forbidden(user, info, decision.reason)
            proxy = server.authenticator.delegation().requestheader
            clean = [(k, v) for k, v in headers if not is_identity_header(k, proxy)]
            if info.is_resource:
                return await _resource(server, request, info, user, query, clean)
            return await _non_resource(server, request, info)
        except StatusError as exc:
            return _status(exc)
        except Exception as exc:
            log.exception("%s %s failed", request.method, request.url.path)
            return _status(StatusError(500, "InternalError", f"Internal error occurred: {exc}"))

    return app


def _forbidden(user: User, info: RequestInfo, reason: str) -> StatusError:
    target = f"{info.resource}.{info.group}" if info.is_resource else ""
    message = (f"{target} is forbidden: " if target else "forbidden: ") + f'User "{user.name}" ' + info.describe()
    if reason:
        message += f": {reason}"
    details = {"group": info.group, "kind": info.resource, "name": info.name} if info.is_resource else None
    return StatusError(403, "Forbidden", message, details)


async def _non_resource(server: Server, request: Request, info: RequestInfo) -> Response:
    path = info.path.rstrip("/") or "/"
    if request.method not in ("GET", "HEAD"):
        raise StatusError(405, "MethodNotAllowed", f"{request.method} is not allowed on {path}")
    if path in ("/healthz", "/livez", "/readyz"):
        why = server.ready() if path == "/readyz" else ""
        return Response("ok" if not why else f"not ready: {why}", 200 if not why else 503, media_type="text/plain")
    resources = server.resources
    if path == "/apis":
        wanted = negotiate(request.headers.get("accept"), views=("APIGroupDiscoveryList",))
        if wanted.view == "APIGroupDiscoveryList":
            return _json(discovery.aggregated(resources, wanted.version), content_type=wanted.content_type)
        return _json(discovery.api_group_list(resources))
    parts = path.strip("/").split("/")
    groups = {r.group for r in resources}
    if len(parts) == 2 and parts[0] == "apis" and parts[1] in groups:
        negotiate(request.headers.get("accept"), views=())
        return _json(discovery.api_group(parts[1], resources))
    if len(parts) == 3 and parts[0] == "apis" and f"{parts[1]}/{parts[2]}" in {r.group_version for r in resources}:
        negotiate(request.headers.get("accept"), views=())
        return _json(discovery.api_resource_list(f"{parts[1]}/{parts[2]}", resources))
    if path == "/openapi/v2":
        return _json(openapi.v2_document(resources))
    if path == "/openapi/v3":
        return _json(openapi.v3_root(resources))
    if len(parts) == 5 and parts[:3] == ["openapi", "v3", "apis"]:
        gv = f"{parts[3]}/{parts[4]}"
        if gv in {r.group_version for r in resources}:
            return _json(openapi.v3_document(gv, resources))
    raise StatusError(404, "NotFound", "the server could not find the requested resource")


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true")


def _options(user: User, query: dict[str, str], request: Request) -> Options:
    dry = query.get("dryRun", "")
    if dry not in ("", "All"):
        raise bad_request(f'dryRun: Unsupported value: {dry!r}: supported values: "All"')
    manager = query.get("fieldManager") or request.headers.get("user-agent", "unknown").split("/")[0][:128]
    return Options(
        user, dry == "All", field_validation(query.get("fieldValidation")), manager, _flag(query.get("force"))
    )


async def _body(request: Request) -> bytes:
    data = await request.body()
    if len(data) > MAX_BODY:
        raise StatusError(413, "RequestEntityTooLarge", f"the request body is larger than {MAX_BODY} bytes")
    return data


def _decode(data: bytes, content_type: str) -> Any:
    kind = content_type.split(";")[0].strip().lower()
    try:
        if kind in ("application/yaml", "application/x-yaml"):
            return yaml.safe_load(data)
        if kind in ("application/json", ""):
            return json.loads(data or b"null")
    except (ValueError, yaml.YAMLError) as exc:
        raise bad_request(f"the body of the request could not be decoded: {exc}") from exc
    raise StatusError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format ({kind}) - "
        "accepted media types include: application/json, application/yaml",
    )


def _render(store: Store, obj: Object, wanted: Wanted, include: str) -> Object:
    if wanted.view == "Table":
        meta = {"resourceVersion": obj.get("metadata", {}).get("resourceVersion", "")}
        return tables.table(store.resource, [obj], meta, include=include, version=wanted.version)
    if wanted.view == "PartialObjectMetadata":
        return tables.partial(obj, wanted.version)
    return obj


def _render_list(store: Store, items: list[Object], meta: dict[str, Any], wanted: Wanted, include: str) -> Object:
    r = store.resource
    if wanted.view == "Table":
        return tables.table(r, items, meta, include=include, version=wanted.version)
    if wanted.view == "PartialObjectMetadata":
        return tables.partial_list(items, meta, wanted.version)
    return {"apiVersion": r.group_version, "kind": r.list_kind, "metadata": meta, "items": items}


async def _resource(
    server: Server,
    request: Request,
    info: RequestInfo,
    user: User,
    query: dict[str, str],
    headers: list[tuple[str, str]],
) -> Response:
    store = server.stores.get((f"{info.group}/{info.version}", info.resource))
    if store is None:
        raise StatusError(404, "NotFound", "the server could not find the requested resource")
    r = store.resource
    if info.subresource and (info.subresource != "status" or r.status is None):
        raise StatusError(404, "NotFound", f"the server could not find the requested resource ({info.subresource})")
    if r.namespaced is False and info.namespace:
        raise StatusError(404, "NotFound", f"{r.plural} is cluster-scoped: there are no namespaced {r.plural}")
    namespace = info.namespace or None
    if r.namespaced and info.name and not namespace:
        raise StatusError(404, "NotFound", "the server could not find the requested resource (a namespace is needed)")
    wanted = negotiate(request.headers.get("accept"), views=OBJECT_VIEWS)
    include = tables.include_object(query.get("includeObject"))
    selection = Selection(
        query.get("labelSelector", ""),
        query.get("fieldSelector", ""),
        _int(query.get("limit")),
        query.get("continue", ""),
        query.get("resourceVersion", ""),
        query.get("resourceVersionMatch", ""),
    )
    method = request.method
    if method in ("GET", "HEAD") and info.verb == "watch":
        return _watch(server, store, namespace, selection, query, wanted, include)
    if method in ("GET", "HEAD") and info.name:
        return _json(
            _render(store, await store.get(namespace, info.name), wanted, include), content_type=wanted.content_type
        )
    if method in ("GET", "HEAD"):
        items, meta = await store.list_objects(namespace, selection)
        return _json(_render_list(store, items, meta, wanted, include), content_type=wanted.content_type)
    options = _options(user, query, request)
    content_type = request.headers.get("content-type", "application/json")
    if method == "POST" and not info.name:
        if r.namespaced and not namespace:
            raise method_not_supported(r, "create without a namespace")
        obj, warnings = await store.create(namespace, _decode(await _body(request), content_type), options)
        return _json(_render(store, obj, wanted, include), 201, content_type=wanted.content_type, warnings=warnings)
    if method == "PUT" and info.name:
        obj, warnings = await store.update(
            namespace, info.name, _decode(await _body(request), content_type), options, info.subresource
        )
        return _json(_render(store, obj, wanted, include), content_type=wanted.content_type, warnings=warnings)
    if method == "PATCH" and info.name:
        patch_type = content_type.split(";")[0].strip().lower()
        obj, warnings, created = await store.patch(
            namespace, info.name, patch_type, await _body(request), options, info.subresource
        )
        return _json(
            _render(store, obj, wanted, include),
            201 if created else 200,
            content_type=wanted.content_type,
            warnings=warnings,
        )
    if method == "DELETE":
        data = await _body(request)
        delete_options = _decode(data, content_type) if data.strip() else {}
        if not isinstance(delete_options, dict):
            raise bad_request("DeleteOptions must be an object")
        if "propagationPolicy" in query:
            delete_options["propagationPolicy"] = query["propagationPolicy"]
        if delete_options.get("dryRun") == ["All"]:
            options.dry_run = True
        if info.subresource:
            raise method_not_supported(r, "delete of a subresource")
        if info.name:
            obj = await store.delete(namespace, info.name, delete_options, options)
            return _json(_render(store, obj, wanted, include), content_type=wanted.content_type)
        items, meta = await store.delete_collection(namespace, selection, delete_options, options)
        return _json(_render_list(store, items, meta, wanted, include), content_type=wanted.content_type)
    raise method_not_supported(r, method)


def _int(value: str | None) -> int:
    if value in (None, ""):
        return 0
    try:
        found = int(value)
    except ValueError:
        raise bad_request(f"invalid integer {value!r}") from None
    if found < 0:
        raise bad_request(f"invalid value {value!r}: must be non-negative")
    return found


def _watch(
    server: Server,
    store: Store,
    namespace: str | None,
    selection: Selection,
    query: dict[str, str],
    wanted: Wanted,
    include: str,
) -> Response:
    timeout = float(_int(query.get("timeoutSeconds"))) or server.watch_timeout
    send_initial = query.get("sendInitialEvents")
    events = store.watch(
        namespace,
        selection,
        send_initial=None if send_initial is None else _flag(send_initial),
        bookmarks=_flag(query.get("allowWatchBookmarks")),
        bookmark_every=server.bookmark_every,
        timeout=timeout,
    )

    async def lines() -> AsyncIterator[bytes]:
        first = True
        try:
            async for kind, obj in events:
                if kind not in ("ERROR", "BOOKMARK"):
                    if wanted.view == "Table":
                        meta = {"resourceVersion": obj["metadata"]["resourceVersion"]}
                        obj = tables.table(
                            store.resource, [obj], meta, include=include, version=wanted.version, headers=first
                        )
                        first = False
                    elif wanted.view == "PartialObjectMetadata":
                        obj = tables.partial(obj, wanted.version)
                yield json.dumps({"type": kind, "object": obj}, separators=(",", ":")).encode() + b"\n"
                if kind == "ERROR":
                    return
        finally:
            await events.aclose()  # type: ignore[attr-defined]

    return StreamingResponse(lines(), media_type=wanted.content_type)
