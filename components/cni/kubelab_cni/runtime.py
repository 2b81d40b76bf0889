"""Drive CNI plugins the way a container runtime does, for tests and benchmarks.

Named network namespaces come from ``ip netns`` (so they live under /var/run/netns and
cnitool can use them); a plugin is exec'd with the CNI_* environment and the config on
stdin, optionally inside a "node" namespace (through ``nsenter``) so that bridges, veths
and NAT rules never touch the real host namespace.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

NETNS_DIR = "/var/run/netns"


def unique_name(prefix: str = "kl") -> str:
    """A short unique name, also valid as an interface name (<= 15 chars)."""
    return f"{prefix}{secrets.token_hex(4)}"


@dataclass
class Netns:
    name: str

    @property
    def path(self) -> str:
        return os.path.join(NETNS_DIR, self.name)

    @classmethod
    def create(cls, prefix: str = "kl") -> Netns:
        ns = cls(unique_name(prefix))
        subprocess.run(["ip", "netns", "add", ns.name], check=True, capture_output=True)
        return ns

    def delete(self) -> None:
        subprocess.run(["ip", "netns", "del", self.name], check=False, capture_output=True)

    def exists(self) -> bool:
        return os.path.exists(self.path)

    def prefix(self) -> list[str]:
        """argv prefix that runs a command inside this namespace."""
        return ["nsenter", f"--net={self.path}", "--"]

    def ip_json(self, *args: str) -> Any:
        out = subprocess.run([*self.prefix(), "ip", "-j", *args], check=True, capture_output=True, text=True).stdout
        return json.loads(out) if out.strip() else []


@dataclass
class Call:
    rc: int
    stdout: bytes
    stderr: bytes
    seconds: float
    document: Any = field(default=None)

    @property
    def ok(self) -> bool:
        return self.rc == 0


def exec_plugin(
    binary: str,
    command: str | None,
    stdin: bytes | str | Mapping[str, Any],
    *,
    container_id: str | None = None,
    netns: str | None = None,
    ifname: str | None = "eth0",
    cni_path: Sequence[str] = (),
    node: Netns | None = None,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 120.0,
) -> Call:
    """One plugin execution; ``None`` leaves a CNI_* variable unset."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CNI_")}
    for key, value in (
        ("CNI_COMMAND", command),
        ("CNI_CONTAINERID", container_id),
        ("CNI_NETNS", netns),
        ("CNI_IFNAME", ifname),
        ("CNI_PATH", ":".join(cni_path) if cni_path else None),
    ):
        if value is not None:
            env[key] = value
    env.update(extra_env or {})
    if isinstance(stdin, Mapping):
        data = json.dumps(stdin).encode()
    else:
        data = stdin.encode() if isinstance(stdin, str) else stdin
    argv = (node.prefix() if node else []) + [binary]
    started = time.perf_counter()
    proc = subprocess.run(argv, input=data, env=env, capture_output=True, timeout=timeout)
    seconds = time.perf_counter() - started
    try:
        document = json.loads(proc.stdout) if proc.stdout.strip() else None
    except ValueError:
        document = None
    return Call(proc.returncode, proc.stdout, proc.stderr, seconds, document)
