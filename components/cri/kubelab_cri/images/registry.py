"""A pull-only OCI distribution client (``GET /v2/<name>/manifests/<ref>``, ``/blobs/<digest>``).

- Indexes (OCI image index, Docker manifest list) are resolved to the manifest of the node's
  platform (``linux`` and this machine's architecture);
- every manifest and blob is checked against its digest while it is read: a registry that
  sends other bytes is an error, nothing of it is kept;
- authentication as the registry asks (``WWW-Authenticate``): HTTP Basic, or a Bearer token
  fetched from the realm with the pull's credentials (the CRI ``AuthConfig``: ``username`` and
  ``password``, or ``auth`` as base64 ``user:password``, or a ready ``registry_token``);
- plain HTTP for ``localhost``/``127.0.0.1`` registries and for mirrors given as ``http://``
  (``localhost:5001=http://kubelab-registry:5000``: the cluster's local registry, as the nodes'
  containerd is configured), HTTPS otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import json
import platform
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from kubelab_cri.images.reference import Reference

INDEX_TYPES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")
MANIFEST_TYPES = ("application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json")
ACCEPT = ", ".join(INDEX_TYPES + MANIFEST_TYPES)
ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}


class RegistryError(Exception):
    """A pull that cannot go on; ``kind`` says why: not-found, unauthorized, unreachable, corrupt, unsupported."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Credentials:
    username: str = ""
    password: str = ""
    token: str = ""  # a registry token, sent as Bearer as it is

    @classmethod
    def from_auth(cls, username: str = "", password: str = "", auth: str = "", registry_token: str = "") -> Credentials:
        if auth and not username:
            try:
                username, _, password = base64.b64decode(auth).decode().partition(":")
            except (ValueError, UnicodeDecodeError) as exc:
                raise RegistryError("unauthorized", f"auth is not base64 user:password: {exc}") from exc
        return cls(username, password, registry_token)


ANONYMOUS = Credentials()


def node_platform() -> tuple[str, str]:
    machine = platform.machine()
    return "linux", ARCHITECTURES.get(machine, machine)


def _challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, params = header.partition(" ")
    return scheme.lower(), dict(re.findall(r'(\w+)="([^"]*)"', params))


@dataclass(frozen=True)
class Manifest:
    digest: str
    body: dict[str, Any]
    config: dict[str, Any]

    @property
    def layers(self) -> list[dict[str, Any]]:
        return list(self.body.get("layers") or [])


@dataclass
class RegistryClient:
    mirrors: Mapping[str, str] = field(default_factory=dict)  # registry host -> endpoint URL
    timeout: float = 30.0

    def endpoint(self, registry: str) -> str:
        if registry in self.mirrors:
            return self.mirrors[registry].rstrip("/")
        host = registry.rsplit(":", 1)[0]
        scheme = "http" if host in ("localhost", "127.0.0.1") else "https"
        return f"{scheme}://{'registry-1.docker.io' if registry == 'docker.io' else registry}"

    # -- requests ------------------------------------------------------------------------------
    def _get(self, http: httpx.Client, url: str, creds: Credentials, headers: dict[str, str]) -> httpx.Response:
        try:
            request = http.build_request("GET", url, headers=headers)
            response = http.send(request, stream=True)
            if response.status_code == 401:
                response.close()
                auth = self._authorize(http, response.headers.get("www-authenticate", ""), creds)
                response = http.send(http.build_request("GET", url, headers={**headers, **auth}), stream=True)
        except httpx.HTTPError as exc:
            raise RegistryError("unreachable", f"GET {url}: {exc}") from exc
        if response.status_code == 401 or response.status_code == 403:
            response.close()
            raise RegistryError(
                "unauthorized", f"GET {url}: {response.status_code}: the registry refused the credentials"
            )
        if response.status_code == 404:
            response.close()
            raise RegistryError("not-found", f"GET {url}: 404 not found")
        if response.status_code >= 400:
            response.close()
            raise RegistryError("unreachable", f"GET {url}: {response.status_code}")
        return response

    def _authorize(self, http: httpx.Client, header: str, creds: Credentials) -> dict[str, str]:
        scheme, params = _challenge(header)
        if creds.token:
            return {"Authorization": f"Bearer {creds.token}"}
        basic = base64.b64encode(f"{creds.username}:{creds.password}".encode()).decode()
        if scheme == "basic":
            return {"Authorization": f"Basic {basic}"} if creds.username else {}
        if scheme != "bearer" or "realm" not in params:
            raise RegistryError(
                "unauthorized", f"the registry asks for {header!r}: not a challenge this client answers"
            )
        query = {k: v for k, v in params.items() if k in ("service", "scope")}
        auth = {"Authorization": f"Basic {basic}"} if creds.username else {}
        try:
            answer = http.get(params["realm"], params=query, headers=auth)
        except httpx.HTTPError as exc:
            raise RegistryError("unreachable", f"token from {params['realm']}: {exc}") from exc
        if answer.status_code != 200:
            raise RegistryError("unauthorized", f"token from {params['realm']}: {answer.status_code}")
        token = answer.json().get("token") or answer.json().get("access_token") or ""
        return {"Authorization": f"Bearer {token}"}

    def _verified(self, response: httpx.Response, digest: str | None, limit: int = 4 << 20) -> tuple[bytes, str]:
        data = response.read()
        response.close()
        if len(data) > limit:
            raise RegistryError("unsupported", f"{response.url}: a {len(data)}-byte manifest or config")
        got = "sha256:" + hashlib.sha256(data).hexdigest()
        if digest and got != digest:
            raise RegistryError("corrupt", f"{response.url}: content is {got}, expected {digest}")
        return data, got

    # -- the pull's steps ----------------------------------------------------------------------
    def manifest(self, ref: Reference, creds: Credentials = ANONYMOUS) -> Manifest:
        """The image manifest for the node's platform, and its config, both digest-checked."""
        base = f"{self.endpoint(ref.registry)}/v2/{ref.repository}"
        with httpx.Client(timeout=self.timeout, follow_redirects=True) as http:
            response = self._get(http, f"{base}/manifests/{ref.selector}", creds, {"Accept": ACCEPT})
            media = response.headers.get("content-type", "").split(";")[0]
            data, digest = self._verified(response, ref.digest or None)
            body = json.loads(data)
            media = body.get("mediaType") or media
            if media in INDEX_TYPES:
                os_, arch = node_platform()
                chosen = next(
                    (
                        m
                        for m in body.get("manifests") or []
                        if (m.get("platform") or {}).get("os") == os_
                        and (m.get("platform") or {}).get("architecture") == arch
                    ),
                    None,
                )
                if chosen is None:
                    raise RegistryError("not-found", f"{ref}: no manifest for {os_}/{arch} in its index")
                response = self._get(http, f"{base}/manifests/{chosen['digest']}", creds, {"Accept": ACCEPT})
                data, digest = self._verified(response, chosen["digest"])
                body = json.loads(data)
                media = body.get("mediaType") or media
            if media not in MANIFEST_TYPES:
                raise RegistryError("unsupported", f"{ref}: manifest media type {media!r}")
            config_digest = body["config"]["digest"]
            response = self._get(http, f"{base}/blobs/{config_digest}", creds, {})
            config, _ = self._verified(response, config_digest)
            return Manifest(digest, body, json.loads(config))

    def blob(self, ref: Reference, digest: str, dest: Path, creds: Credentials = ANONYMOUS) -> None:
        """Stream a blob to ``dest`` (via a temporary file beside it), checking its digest."""
        url = f"{self.endpoint(ref.registry)}/v2/{ref.repository}/blobs/{digest}"
        partial = dest.with_name(dest.name + ".partial")
        with httpx.Client(timeout=self.timeout, follow_redirects=True) as http:
            response = self._get(http, url, creds, {})
            hasher = hashlib.sha256()
            try:
                with partial.open("wb") as out:
                    for chunk in response.iter_bytes(1 << 20):
                        hasher.update(chunk)
                        out.write(chunk)
            except httpx.HTTPError as exc:
                partial.unlink(missing_ok=True)
                raise RegistryError("unreachable", f"GET {url}: {exc}") from exc
            finally:
                response.close()
        got = "sha256:" + hasher.hexdigest()
        if got != digest:
            partial.unlink(missing_ok=True)
            raise RegistryError("corrupt", f"{url}: content is {got}, expected {digest}")
        partial.replace(dest)
