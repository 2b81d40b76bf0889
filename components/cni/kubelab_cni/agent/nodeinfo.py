"""What the agent needs of a Node object: its name, InternalIP and podCIDR (a pure function)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NodeInfo:
    name: str
    internal_ip: str
    pod_cidr: str


def node_info(obj: dict[str, Any]) -> NodeInfo:
    """From a Node as the API server sends it; a missing address or podCIDR is ``""``."""
    addresses = (obj.get("status") or {}).get("addresses") or []
    ip = next((a["address"] for a in addresses if a.get("type") == "InternalIP"), "")
    return NodeInfo(obj["metadata"]["name"], ip, (obj.get("spec") or {}).get("podCIDR") or "")
