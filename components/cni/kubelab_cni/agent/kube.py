"""A minimal in-cluster Kubernetes API client (standard library): list and watch nodes.

The agent needs two calls only, so it speaks HTTPS with the pod's ServiceAccount token
instead of pulling in a client library.
"""

from __future__ import annotations

import json
import os
import ssl
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


@dataclass(frozen=True)
class NodeInfo:
    name: str
    internal_ip: str
    pod_cidr: str


def node_info(obj: dict[str, Any]) -> NodeInfo:
    addresses = obj.get("status", {}).get("addresses", [])
    ip = next((a["address"] for a in addresses if a.get("type") == "InternalIP"), "")
    return NodeInfo(obj["metadata"]["name"], ip, obj.get("spec", {}).get("podCIDR", ""))


class Api:
    def __init__(self, server: str, token: str, ca_file: str) -> None:
        self.server = server.rstrip("/")
        self.token = token
        self.context = ssl.create_default_context(cafile=ca_file)

    @classmethod
    def in_cluster(cls) -> Api:
        host = os.environ["KUBERNETES_SERVICE_HOST"]
        port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
        if ":" in host:
            host = f"[{host}]"
        with open(os.path.join(SA_DIR, "token")) as fh:
            token = fh.read().strip()
        return cls(f"https://{host}:{port}", token, os.path.join(SA_DIR, "ca.crt"))

    def _open(self, path: str, timeout: float) -> Any:
        req = urllib.request.Request(self.server + path, headers={"Authorization": f"Bearer {self.token}"})
        return urllib.request.urlopen(req, context=self.context, timeout=timeout)

    def get(self, path: str, timeout: float = 30) -> dict[str, Any]:
        with self._open(path, timeout) as resp:
            doc: dict[str, Any] = json.load(resp)
            return doc

    def list_nodes(self) -> tuple[list[NodeInfo], str]:
        doc = self.get("/api/v1/nodes")
        return [node_info(item) for item in doc["items"]], doc["metadata"]["resourceVersion"]

    def get_node(self, name: str) -> NodeInfo:
        return node_info(self.get(f"/api/v1/nodes/{name}"))

    def watch_nodes(self, resource_version: str, timeout_s: int) -> Iterator[tuple[str, dict[str, Any]]]:
        """(event type, object) until the server ends the watch after ``timeout_s``."""
        path = f"/api/v1/nodes?watch=1&allowWatchBookmarks=false&resourceVersion={resource_version}"
        path += f"&timeoutSeconds={timeout_s}"
        with self._open(path, timeout_s + 30) as resp:
            for line in resp:
                if line.strip():
                    event = json.loads(line)
                    yield event["type"], event["object"]
