"""The registries' credentials on the node, and which of them an image needs (exercise 9.4).

The file (``--credentials``, default ``/etc/kubelab/credential-provider/credentials.json``, mode
0600)::

    {"registries": {"kubelab-auth-registry:5000": {"username": "lab", "password": "..."}}}

An image ``kubelab-auth-registry:5000/kubelab/private:1`` is of the registry
``kubelab-auth-registry:5000`` (its first path segment, when that holds a ``.`` or a ``:`` or is
``localhost``; else Docker Hub's ``docker.io``). The answer names that registry as its pattern.
"""

from __future__ import annotations

import json
from pathlib import Path

DEFAULT_FILE = Path("/etc/kubelab/credential-provider/credentials.json")


class CredentialsError(ValueError):
    """The credentials file is missing or malformed; the message says which and how."""


def load(path: Path) -> dict[str, tuple[str, str]]:
    """Registry host → (username, password)."""
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise CredentialsError(f"no credentials file at {path}") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise CredentialsError(f"cannot read the credentials file {path}: {exc}") from None
    registries = doc.get("registries") if isinstance(doc, dict) else None
    if not isinstance(registries, dict):
        raise CredentialsError(f"{path} has no object 'registries'")
    found: dict[str, tuple[str, str]] = {}
    for host, entry in registries.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("username"), str) or "password" not in entry:
            raise CredentialsError(f"{path}: registry {host!r} needs a username and a password")
        found[host] = (entry["username"], str(entry["password"]))
    return found


def registry_of(image: str) -> str:
    """The registry host an image reference names (``docker.io`` when it names none)."""
    first, sep, _ = image.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def for_image(image: str, known: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """The ``auth`` entries the response gives for ``image``: its registry's credentials, or none."""
    # >>> solution 9.4
    host = registry_of(image)
    return {host: known[host]} if host in known else {}
    # === starter
    # raise NotImplementedError("TODO(9.4): the credentials of the registry `image` is pulled from")
    # <<< solution
