"""Image references as the Docker/OCI tools read them: ``[registry/]repository[:tag][@digest]``.

No registry part (the first component has no ``.`` or ``:`` and is not ``localhost``) means
``docker.io``, where a one-component repository is under ``library/``; no tag and no digest
means ``latest``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DOCKER_HUB = "docker.io"
_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


class ReferenceError(ValueError):
    """Not an image reference; the message says which part is wrong."""


@dataclass(frozen=True)
class Reference:
    registry: str
    repository: str
    tag: str = ""
    digest: str = ""

    @property
    def name(self) -> str:
        return f"{self.registry}/{self.repository}"

    def __str__(self) -> str:
        if self.digest:
            return f"{self.name}@{self.digest}"
        return f"{self.name}:{self.tag or 'latest'}"

    @property
    def selector(self) -> str:
        """What to ask the registry's manifests endpoint for: the digest if any, else the tag."""
        return self.digest or self.tag or "latest"


def parse(text: str) -> Reference:
    if not text or text != text.strip():
        raise ReferenceError(f"image reference {text!r}: empty or surrounded by spaces")
    rest, _, digest = text.partition("@")
    if digest and not _DIGEST.match(digest):
        raise ReferenceError(f"image reference {text!r}: digest {digest!r} is not sha256:<64 hex digits>")
    tag = ""
    last_slash = rest.rfind("/")
    if ":" in rest[last_slash + 1 :]:
        rest, tag = rest.rsplit(":", 1)
        if not _TAG.match(tag):
            raise ReferenceError(f"image reference {text!r}: tag {tag!r} is not valid")
    parts = rest.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        registry, path = parts[0], parts[1:]
    else:
        registry, path = DOCKER_HUB, parts
    if registry == DOCKER_HUB and len(path) == 1:
        path = ["library", *path]
    for component in path:
        if not _COMPONENT.match(component):
            raise ReferenceError(f"image reference {text!r}: repository component {component!r} is not valid")
    return Reference(registry, "/".join(path), tag if tag or digest else "latest", digest)
