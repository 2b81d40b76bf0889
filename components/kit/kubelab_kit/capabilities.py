"""Linux capabilities: names, and parsing the ``Cap*`` lines of ``/proc/<pid>/status``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Bit number -> name, as in linux/capability.h (0 … 40 as of Linux 5.9+).
CAPABILITY_NAMES: tuple[str, ...] = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
)
CAP_SYS_RESOURCE = CAPABILITY_NAMES.index("CAP_SYS_RESOURCE")  # 24

_FIELDS = {
    "CapInh": "inheritable",
    "CapPrm": "permitted",
    "CapEff": "effective",
    "CapBnd": "bounding",
    "CapAmb": "ambient",
}


def cap_name(bit: int) -> str:
    return CAPABILITY_NAMES[bit] if bit < len(CAPABILITY_NAMES) else f"CAP_{bit}"


@dataclass(frozen=True)
class CapabilitySets:
    """The five capability masks of a process, as read from its status file."""

    inheritable: int
    permitted: int
    effective: int
    bounding: int
    ambient: int

    def missing_from_bounding(self, last_cap: int) -> list[str]:
        """Names of the capabilities 0 … ``last_cap`` the bounding set lacks.

        A privileged container asks runc for every capability the kernel knows; any
        of them missing from the bounding set makes runc fail with
        ``unable to apply caps: operation not permitted``.
        """
        return [cap_name(bit) for bit in range(last_cap + 1) if not self.bounding >> bit & 1]

    def has(self, bit: int, which: str = "bounding") -> bool:
        mask: int = getattr(self, which)
        return bool(mask >> bit & 1)


def parse_status(text: str) -> CapabilitySets:
    """Parse the ``CapInh``/``CapPrm``/``CapEff``/``CapBnd``/``CapAmb`` lines (hex masks).

    A missing ``CapAmb`` line (kernels before 4.3) reads as 0; any other missing
    line is an error.
    """
    values: dict[str, int] = {"ambient": 0}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in _FIELDS:
            values[_FIELDS[key.strip()]] = int(value.strip(), 16)
    missing = [f for f, name in _FIELDS.items() if name not in values]
    if missing:
        raise ValueError(f"no {', '.join(missing)} line in the status text")
    return CapabilitySets(**values)


def read_own(proc: Path = Path("/proc")) -> tuple[CapabilitySets, int]:
    """This process's capability sets and the kernel's highest capability number."""
    caps = parse_status((proc / "self" / "status").read_text())
    try:
        last_cap = int((proc / "sys" / "kernel" / "cap_last_cap").read_text())
    except (OSError, ValueError):
        last_cap = len(CAPABILITY_NAMES) - 1
    return caps, last_cap
