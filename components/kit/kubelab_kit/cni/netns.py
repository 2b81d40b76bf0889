"""Named network namespaces, as ``ip netns`` makes them (under ``/var/run/netns``, so cnitool
and a runtime can use them too), and running a command inside one (``nsenter``).

Creating one needs root and iproute2. Standard library only.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from dataclasses import dataclass
from typing import Any

from kubelab_kit.errors import KubelabError

NETNS_DIR = "/var/run/netns"


class NetnsError(KubelabError):
    area = "cni"


def unique_name(prefix: str = "kl") -> str:
    """A short unique name, also valid as an interface name (<= 15 chars for a prefix of up to 7)."""
    return f"{prefix}{secrets.token_hex(4)}"


@dataclass
class Netns:
    name: str

    @property
    def path(self) -> str:
        return os.path.join(NETNS_DIR, self.name)

    @classmethod
    def create(cls, prefix: str = "kl") -> Netns:
        """``ip netns add <prefix><random>``."""
        ns = cls(unique_name(prefix))
        argv = ["ip", "netns", "add", ns.name]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        except OSError as exc:
            raise NetnsError(f"cannot run ip: {exc.strerror or exc}", command=argv, fix="install iproute2") from exc
        if proc.returncode != 0:
            raise NetnsError(
                f"cannot create network namespace {ns.name}",
                command=argv,
                output=proc.stderr,
                fix="creating a network namespace needs root (CAP_SYS_ADMIN)",
            )
        return ns

    def delete(self) -> None:
        """``ip netns del``; a namespace already gone is fine."""
        subprocess.run(["ip", "netns", "del", self.name], check=False, capture_output=True)

    def loopback_up(self) -> None:
        """``ip -n NAME link set lo up`` (a new namespace's loopback is down)."""
        argv = ["ip", "-n", self.name, "link", "set", "lo", "up"]
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise NetnsError(f"cannot bring up lo in {self.name}", command=argv, output=proc.stderr)

    def exists(self) -> bool:
        return os.path.exists(self.path)

    def prefix(self) -> list[str]:
        """argv prefix that runs a command inside this namespace."""
        return ["nsenter", f"--net={self.path}", "--"]

    def ip_json(self, *args: str) -> Any:
        """``ip -j <args>`` inside the namespace, decoded (``[]`` for no output)."""
        out = subprocess.run([*self.prefix(), "ip", "-j", *args], check=True, capture_output=True, text=True).stdout
        return json.loads(out) if out.strip() else []

    def __enter__(self) -> Netns:
        return self

    def __exit__(self, *exc: object) -> None:
        self.delete()
