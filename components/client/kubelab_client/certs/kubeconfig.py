"""Kubeconfig files: what a client needs to reach and trust a cluster, and who it is.

A kubeconfig has three lists, tied by a *context*: ``clusters`` (server URL, the CA that
signed the server's certificate), ``users`` (a client certificate and key, or a token) and
``contexts`` (cluster + user + default namespace); ``current-context`` picks one. Here
every file is embedded (``*-data``, base64 PEM), so the kubeconfig works on any machine.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kubelab_client.errors import ClientError


class KubeconfigError(ClientError):
    pass


@dataclass(frozen=True)
class ClusterInfo:
    name: str
    server: str
    ca_pem: bytes


@dataclass(frozen=True)
class UserCredentials:
    name: str
    cert_pem: bytes | None
    key_pem: bytes | None
    token: str | None


def _load(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise KubeconfigError(f"no kubeconfig at {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise KubeconfigError(f"{path} is not YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise KubeconfigError(f"{path} is not a kubeconfig (not a mapping)")
    return data


def _named(data: dict[str, Any], section: str, name: str, path: Path) -> dict[str, Any]:
    for entry in data.get(section) or []:
        if entry.get("name") == name:
            value = entry.get(section[:-1])
            if isinstance(value, dict):
                return value
    raise KubeconfigError(f"{path}: no {section[:-1]} named {name!r}")


def _context(data: dict[str, Any], context: str | None, path: Path) -> dict[str, Any]:
    name = context or data.get("current-context")
    if not name:
        raise KubeconfigError(f"{path}: no current-context and no context given")
    return _named(data, "contexts", str(name), path)


def _file_or_data(entry: dict[str, Any], key: str, base: Path) -> bytes | None:
    if entry.get(f"{key}-data"):
        return base64.b64decode(entry[f"{key}-data"])
    if entry.get(key):
        file = Path(entry[key])
        return (file if file.is_absolute() else base / file).read_bytes()
    return None


def read_cluster(path: Path, context: str | None = None) -> ClusterInfo:
    data = _load(path)
    ctx = _context(data, context, path)
    name = str(ctx.get("cluster"))
    cluster = _named(data, "clusters", name, path)
    ca = _file_or_data(cluster, "certificate-authority", path.parent)
    if not ca:
        raise KubeconfigError(f"{path}: cluster {name!r} has no certificate-authority(-data)")
    return ClusterInfo(name, str(cluster["server"]), ca)


def read_user(path: Path, context: str | None = None) -> UserCredentials:
    data = _load(path)
    ctx = _context(data, context, path)
    name = str(ctx.get("user"))
    user = _named(data, "users", name, path)
    return UserCredentials(
        name,
        _file_or_data(user, "client-certificate", path.parent),
        _file_or_data(user, "client-key", path.parent),
        str(user["token"]) if user.get("token") else None,
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def user_kubeconfig(
    cluster: ClusterInfo, user: str, cert_pem: bytes, key_pem: bytes, namespace: str | None = None
) -> dict[str, Any]:
    """A kubeconfig for ``user`` on ``cluster``, with CA, certificate and key embedded."""
    context: dict[str, Any] = {"cluster": cluster.name, "user": user}
    if namespace:
        context["namespace"] = namespace
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster.name,
                "cluster": {"server": cluster.server, "certificate-authority-data": _b64(cluster.ca_pem)},
            }
        ],
        "users": [
            {"name": user, "user": {"client-certificate-data": _b64(cert_pem), "client-key-data": _b64(key_pem)}}
        ],
        "contexts": [{"name": f"{user}@{cluster.name}", "context": context}],
        "current-context": f"{user}@{cluster.name}",
    }


def token_kubeconfig(cluster: ClusterInfo, user: str, token: str, namespace: str | None = None) -> dict[str, Any]:
    """A kubeconfig for ``user`` on ``cluster`` that authenticates with a bearer token (a service account's)."""
    config = user_kubeconfig(cluster, user, b"", b"", namespace)
    config["users"] = [{"name": user, "user": {"token": token}}]
    return config


def write_kubeconfig(path: Path, config: dict[str, Any]) -> Path:
    """Write ``config`` as YAML, readable by its owner only (it holds a private key)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        yaml.safe_dump(config, fh, sort_keys=False)
    return path
