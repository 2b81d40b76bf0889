"""The exec protocol of ``credentialprovider.kubelet.k8s.io/v1``: the request the kubelet writes to
the plugin's stdin, the response the plugin writes to its stdout.

The kubelet runs the plugin for an image its ``matchImages`` cover, with a
``CredentialProviderRequest`` (``image``, and a service account's token in token mode) on stdin,
and reads a ``CredentialProviderResponse``: ``cacheKeyType`` (``Image``, ``Registry`` or
``Global``: what the kubelet caches the answer under), ``cacheDuration`` and ``auth``, a map of
image patterns (``host[:port][/path]``, ``*`` allowed in host labels) to a username and
password. The kubelet hands the matching credentials to the runtime in ``PullImageRequest.auth``.
A plugin that fails (exit status not 0) gets its stderr into the kubelet's log; the pull goes on
without its credentials.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

API_VERSION = "credentialprovider.kubelet.k8s.io/v1"
REQUEST_KIND = "CredentialProviderRequest"
RESPONSE_KIND = "CredentialProviderResponse"


class RequestError(ValueError):
    """A request the plugin cannot answer; the message says what is wrong with it."""


@dataclass(frozen=True)
class Request:
    image: str
    service_account_token: str = ""


def parse_request(text: str) -> Request:
    """The kubelet's request; :class:`RequestError` for anything else."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RequestError(f"the request on stdin is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise RequestError(f"the request is a JSON {type(doc).__name__}, not an object")
    if doc.get("apiVersion") != API_VERSION:
        raise RequestError(f"apiVersion {doc.get('apiVersion')!r} is not supported (this plugin speaks {API_VERSION})")
    if doc.get("kind") != REQUEST_KIND:
        raise RequestError(f"kind {doc.get('kind')!r} is not {REQUEST_KIND}")
    image = doc.get("image")
    if not isinstance(image, str) or not image.strip():
        raise RequestError("the request names no image")
    return Request(image, str(doc.get("serviceAccountToken") or ""))


def response(auth: dict[str, tuple[str, str]], cache_duration: str, cache_key_type: str = "Registry") -> dict[str, Any]:
    """The response document: ``auth`` maps an image pattern to ``(username, password)``."""
    return {
        "apiVersion": API_VERSION,
        "kind": RESPONSE_KIND,
        "cacheKeyType": cache_key_type,
        "cacheDuration": cache_duration,
        "auth": {pattern: {"username": user, "password": password} for pattern, (user, password) in auth.items()},
    }
