"""The one place that touches the official ``kubernetes`` client: config loading and raw HTTP.

The cache layer needs three things the generated ``CoreV1Api`` methods hide: the
``resourceVersion`` and ``continue`` of a list as sent, watch events as raw JSON lines
(bookmarks, ``ERROR`` events with their ``Status``), and a watch it can close from another
thread. So it asks ``ApiClient.param_serialize`` for the URL and auth headers and
``ApiClient.call_api`` for the urllib3 response (never preloaded), and parses JSON itself.
Everything here is typed; the client's own signatures are mostly ``Any``.

Retries are this package's business (the reflector backs off, the workqueue rate-limits),
so urllib3's own retries are turned off (``Configuration.retries = False``).

Client-side throttling is client-go's ``rest.Config`` QPS and Burst: :meth:`Api.limited` gives
every request (watches included, as client-go) a token from one bucket before it is sent.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator, Mapping
from typing import Any, cast

import urllib3
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

from kubelab_client.errors import ApiError, ClientError, ConnectionLost, parse_retry_after
from kubelab_client.objects import KubeObject
from kubelab_client.ratelimit import BucketRateLimiter
from kubelab_client.resources import WELL_KNOWN, Resource

Query = Mapping[str, str | int | bool | None]


PATCH_TYPES = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "apply": "application/apply-patch+yaml",
}


class ConfigError(ClientError):
    """No usable configuration: a missing or broken kubeconfig, no in-cluster service account."""


def _reason(exc: BaseException) -> str:
    """urllib3's error text without its connection object's repr: ``[Errno 111] Connection refused``."""
    text = str(exc)
    marker = "Failed to establish a new connection: "
    return text.split(marker, 1)[1] if marker in text else text


class Api:
    """A thin, typed JSON-over-HTTP client on top of ``kubernetes.client.ApiClient``."""

    def __init__(self, api_client: k8s_client.ApiClient, *, connect_timeout: float = 10.0, timeout: float = 60.0):
        self.api_client = api_client
        self.connect_timeout = connect_timeout
        self.timeout = timeout
        self.throttle: BucketRateLimiter[str] | None = None

    def limited(self, qps: float, burst: int) -> Api:
        """This client, throttled to ``qps`` requests a second with bursts of ``burst`` (client-go's
        ``rest.Config.QPS``/``Burst``; kube-scheduler's defaults are 50 and 100). ``qps <= 0``: none."""
        self.throttle = BucketRateLimiter(qps, burst) if qps > 0 else None
        return self

    # construction
    @classmethod
    def from_config(
        cls, kubeconfig: str | None = None, context: str | None = None, in_cluster: bool | None = None
    ) -> Api:
        """In-cluster config (service account) or a kubeconfig, like client-go's ``BuildConfigFromFlags``.

        ``in_cluster=None`` picks in-cluster when no kubeconfig is given, ``$KUBECONFIG`` is
        unset and ``$KUBERNETES_SERVICE_HOST`` is set.
        """
        configuration = k8s_client.Configuration()
        if in_cluster is None:
            in_cluster = not kubeconfig and not os.environ.get("KUBECONFIG") and "KUBERNETES_SERVICE_HOST" in os.environ
        try:
            if in_cluster:
                k8s_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            else:
                k8s_config.load_kube_config(  # type: ignore[no-untyped-call]
                    config_file=kubeconfig, context=context, client_configuration=configuration, persist_config=False
                )
        except (k8s_config.ConfigException, OSError, ValueError, TypeError, KeyError) as exc:
            where = "in-cluster (service account)" if in_cluster else (kubeconfig or "$KUBECONFIG / ~/.kube/config")
            raise ConfigError(f"cannot load the client configuration from {where}: {exc}") from exc
        return cls._with(configuration)

    @classmethod
    def for_host(
        cls, host: str, *, token: str | None = None, verify_ssl: bool = True, ca_file: str | None = None
    ) -> Api:
        """An unauthenticated (or bearer-token) client for ``host``: ``kubectl proxy``, the fake API server, a
        service account's token (``ca_file``: the CA that signed the server's certificate)."""
        configuration = k8s_client.Configuration(host=host)
        configuration.verify_ssl = verify_ssl
        if ca_file:
            configuration.ssl_ca_cert = ca_file
        if token:
            configuration.api_key = {"BearerToken": token}
            configuration.api_key_prefix = {"BearerToken": "Bearer"}
        return cls._with(configuration)

    @classmethod
    def _with(cls, configuration: k8s_client.Configuration) -> Api:
        configuration.retries = False
        return cls(k8s_client.ApiClient(configuration))

    @property
    def host(self) -> str:
        return str(self.api_client.configuration.host)

    def close(self) -> None:
        self.api_client.close()  # type: ignore[no-untyped-call]

    # raw requests
    def _send(
        self,
        method: str,
        path: str,
        query: Query | None,
        body: Any,
        read_timeout: float | None,
        accept: str,
        content_type: str = "application/json",
    ) -> urllib3.BaseHTTPResponse:
        if self.throttle is not None:
            wait = self.throttle.when(path)
            if wait > 0:
                time.sleep(wait)
        params = [(k, v) for k, v in (query or {}).items() if v is not None]
        headers = {"Accept": accept}
        if body is not None:
            headers["Content-Type"] = content_type
        method, url, header_params, serialized, post_params = self.api_client.param_serialize(
            method=method,
            resource_path=path,
            query_params=params,
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        try:
            response = self.api_client.call_api(
                method,
                url,
                header_params=header_params,
                body=serialized,
                post_params=post_params,
                _request_timeout=(self.connect_timeout, read_timeout if read_timeout is not None else self.timeout),
            )
        except ApiException as exc:  # raised for TLS failures, with status 0
            raise ConnectionLost(f"{method} {self.host}{path}: {exc.reason}") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ConnectionLost(f"{method} {self.host}{path}: {_reason(exc)}") from exc
        raw = cast(urllib3.BaseHTTPResponse, response.response)
        if raw.status >= 400:
            try:
                data = raw.data
            except (urllib3.exceptions.HTTPError, OSError):
                data = b""
            finally:
                raw.release_conn()
            raise _api_error(raw.status, raw.reason or "", data, raw.headers.get("Retry-After"))
        return raw

    def request(
        self,
        method: str,
        path: str,
        query: Query | None = None,
        body: Any = None,
        timeout: float | None = None,
        content_type: str = "application/json",
    ) -> KubeObject:
        """One JSON request; raises :class:`ApiError` for a status >= 400, :class:`ConnectionLost` else.

        This is the REST client (client-go ``rest.RESTClient``): any path, any verb, JSON in and out.
        """
        raw = self._send(method, path, query, body, timeout, "application/json", content_type)
        try:
            data = raw.data
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ConnectionLost(f"{method} {path}: {exc}") from exc
        finally:
            raw.release_conn()
        try:
            decoded = json.loads(data) if data else {}
        except ValueError as exc:
            raise ConnectionLost(f"{method} {path}: body is not JSON: {data[:200]!r}") from exc
        if not isinstance(decoded, dict):
            raise ConnectionLost(f"{method} {path}: body is not a JSON object")
        return decoded

    def stream(self, path: str, query: Query | None, read_timeout: float | None) -> LineStream:
        """Open a streaming GET (a watch): its body as lines, closable from any thread."""
        raw = self._send("GET", path, query, None, read_timeout, "application/json;stream=watch")
        return LineStream(raw, f"GET {path}")

    # typed helpers
    def get(self, resource: Resource, name: str, namespace: str | None = None) -> KubeObject:
        return self.request("GET", resource.object_path(name, namespace))

    def create(self, resource: Resource, obj: KubeObject, namespace: str | None = None) -> KubeObject:
        ns = namespace or obj.get("metadata", {}).get("namespace")
        return self.request("POST", resource.collection_path(ns), body=obj)

    def replace(self, resource: Resource, obj: KubeObject) -> KubeObject:
        """PUT: optimistic concurrency through ``metadata.resourceVersion`` (409 Conflict if stale)."""
        meta = obj.get("metadata", {})
        return self.request("PUT", resource.object_path(meta["name"], meta.get("namespace")), body=obj)

    def delete(
        self, resource: Resource, name: str, namespace: str | None = None, *, propagation_policy: str | None = None
    ) -> KubeObject:
        """DELETE; ``propagation_policy`` ``Background``, ``Foreground`` or ``Orphan`` for the dependents."""
        return self.request("DELETE", resource.object_path(name, namespace), {"propagationPolicy": propagation_policy})

    def patch(
        self,
        resource: Resource,
        name: str,
        patch: Any,
        namespace: str | None = None,
        *,
        patch_type: str = "merge",
        field_manager: str | None = None,
        subresource: str | None = None,
    ) -> KubeObject:
        """PATCH with ``patch_type`` ``merge`` (RFC 7386), ``json`` (RFC 6902, a list of operations)
        or ``strategic`` (built-in types only); ``subresource`` e.g. ``status``."""
        path = resource.object_path(name, namespace) + (f"/{subresource}" if subresource else "")
        return self.request(
            "PATCH",
            path,
            {"fieldManager": field_manager},
            body=patch,
            content_type=PATCH_TYPES[patch_type],
        )

    def apply(self, resource: Resource, obj: KubeObject, *, field_manager: str, force: bool = False) -> KubeObject:
        """Server-side apply: PATCH ``application/apply-patch+yaml`` with the fields this manager owns.

        The server merges, records ownership in ``metadata.managedFields``, and answers 409
        Conflict if another manager owns a field set to a different value, unless ``force``.
        """
        meta = obj.get("metadata", {})
        return self.request(
            "PATCH",
            resource.object_path(meta["name"], meta.get("namespace")),
            {"fieldManager": field_manager, "force": "true" if force else None},
            body=obj,
            content_type=PATCH_TYPES["apply"],
        )

    def server_version(self) -> KubeObject:
        return self.request("GET", "/version")

    def discover(self, spec: str) -> Resource:
        """``configmaps``, ``deployments.apps``, ``apps/v1/deployments`` or ``v1/pods`` → a :class:`Resource`.

        Asks the server's discovery API for kind and scope; only the well-known core and apps
        resources resolve without it.
        """
        parts = spec.split("/")
        if len(parts) == 3:
            group, version, plural = parts
        elif len(parts) == 2:
            group, (version, plural) = "", parts
        else:
            plural, _, group = spec.partition(".")
            version = ""
        if not version:
            if not group:
                version = "v1"
            else:
                try:
                    preferred = self.request("GET", f"/apis/{group}")["preferredVersion"]["version"]
                    version = str(preferred)
                except (ApiError, ConnectionLost, KeyError, TypeError):
                    known = WELL_KNOWN.get(plural)
                    if known and known.group == group:
                        return known
                    raise
        prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
        try:
            listing = self.request("GET", prefix)
        except (ApiError, ConnectionLost):
            known = WELL_KNOWN.get(plural)
            if known and known.group == group and known.version == version:
                return known
            raise
        for entry in listing.get("resources", []):
            if entry.get("name") == plural:
                return Resource(group, version, plural, str(entry["kind"]), bool(entry.get("namespaced", True)))
        raise ApiError(404, "NotFound", f"the server has no resource {plural!r} in {prefix}")


class LineStream:
    """The lines of a streaming response body; :meth:`close` from another thread unblocks a read."""

    def __init__(self, raw: urllib3.BaseHTTPResponse, what: str) -> None:
        self._raw = raw
        self._what = what
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        buffer = b""
        try:
            for chunk in self._raw.stream(64 * 1024):
                buffer += chunk
                while (newline := buffer.find(b"\n")) >= 0:
                    line, buffer = buffer[:newline], buffer[newline + 1 :]
                    if line.strip():
                        yield line
        except (urllib3.exceptions.HTTPError, OSError, ValueError, AttributeError) as exc:
            if self._closed:  # closed from another thread: urllib3 may fail in odd ways
                return
            raise ConnectionLost(f"{self._what}: {exc}") from exc
        if buffer.strip() and not self._closed:
            raise ConnectionLost(f"{self._what}: stream ended inside an event")

    def close(self) -> None:
        """Close the stream; never raises (it runs in ``finally`` blocks and from other threads)."""
        if self._closed:
            return
        self._closed = True
        # urllib3 >= 2.3: shuts the socket down, which unblocks a read in another thread. A
        # response read to its end was already released to the pool: nothing to unblock.
        with contextlib.suppress(RuntimeError, OSError, AttributeError):
            self._raw.shutdown()
        with contextlib.suppress(RuntimeError, OSError):
            self._raw.close()


def _api_error(status: int, reason: str, data: bytes, retry_after: str | None) -> ApiError:
    try:
        body = json.loads(data) if data else None
    except ValueError:
        body = None
    seconds = parse_retry_after(retry_after)
    if isinstance(body, dict) and body.get("kind") == "Status":
        return ApiError.from_status(body, http_status=status, retry_after=seconds)
    return ApiError(status, reason, data[:200].decode(errors="replace"), retry_after=seconds, body=body)
