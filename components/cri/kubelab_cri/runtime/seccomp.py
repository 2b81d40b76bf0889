"""Seccomp for a container (book 4.3): the CRI's ``SecurityProfile`` made an OCI ``linux.seccomp``.

- not set, or ``Unconfined``: no filter (what the kubelet sends when the pod names none);
- ``RuntimeDefault`` (also a set but empty profile): this runtime's default, every system call
  allowed except those a container has no business making without privileges (kernel modules,
  keyrings, kexec, reboot, clock setting, tracing other processes, mount and namespace
  changes unless it holds CAP_SYS_ADMIN), which fail with EPERM;
- ``Localhost``: the profile file the request names (OCI or Docker's format: ``defaultAction``,
  ``syscalls`` with ``names`` and ``action``, optional ``architectures``/``archMap``).

A privileged container gets no filter, as with every runtime.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

from kubelab_kit.grpc import InvalidArgument
from kubelab_protos.gen.cri.v1 import api_pb2

DENIED = (
    "acct",
    "add_key",
    "bpf",
    "clock_adjtime",
    "clock_settime",
    "create_module",
    "delete_module",
    "finit_module",
    "get_kernel_syms",
    "init_module",
    "ioperm",
    "iopl",
    "kcmp",
    "kexec_file_load",
    "kexec_load",
    "keyctl",
    "lookup_dcookie",
    "nfsservctl",
    "open_by_handle_at",
    "perf_event_open",
    "process_vm_readv",
    "process_vm_writev",
    "ptrace",
    "query_module",
    "quotactl",
    "reboot",
    "request_key",
    "settimeofday",
    "stime",
    "swapoff",
    "swapon",
    "sysfs",
    "_sysctl",
    "uselib",
    "userfaultfd",
    "ustat",
    "vm86",
    "vm86old",
)
NEED_SYS_ADMIN = ("mount", "umount", "umount2", "unshare", "setns", "pivot_root", "sethostname", "setdomainname")
ARCHES = {
    "x86_64": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "aarch64": ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
}
RULE_KEYS = ("names", "action", "args", "errnoRet")


def default_profile(capabilities: list[str]) -> dict[str, Any]:
    denied = list(DENIED) + ([] if "CAP_SYS_ADMIN" in capabilities else list(NEED_SYS_ADMIN))
    return {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ARCHES.get(platform.machine(), []),
        "syscalls": [{"names": sorted(denied), "action": "SCMP_ACT_ERRNO", "errnoRet": 1}],
    }


def from_file(path: str) -> dict[str, Any]:
    """A profile file in OCI or Docker's format, as the OCI spec wants it."""
    try:
        doc = json.loads(Path(path).read_text())
    except OSError as exc:
        raise InvalidArgument(f"seccomp profile {path!r}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise InvalidArgument(f"seccomp profile {path!r} is not JSON: {exc}") from exc
    if not isinstance(doc, dict) or "defaultAction" not in doc:
        raise InvalidArgument(f"seccomp profile {path!r} has no defaultAction")
    out: dict[str, Any] = {"defaultAction": doc["defaultAction"]}
    arches = list(doc.get("architectures") or [])
    for entry in doc.get("archMap") or []:  # Docker's form
        arches += [entry.get("architecture", ""), *(entry.get("subArchitectures") or [])]
    if arches:
        out["architectures"] = [a for a in dict.fromkeys(arches) if a]
    rules = []
    for rule in doc.get("syscalls") or []:
        names = rule.get("names") or ([rule["name"]] if rule.get("name") else [])
        if names:
            rules.append({"names": names, **{k: rule[k] for k in RULE_KEYS[1:] if k in rule}})
    out["syscalls"] = rules
    return out


def profile(
    sc: api_pb2.LinuxContainerSecurityContext, capabilities: list[str], privileged: bool
) -> dict[str, Any] | None:
    if privileged:
        return None
    if not sc.HasField("seccomp"):
        legacy = sc.seccomp_profile_path  # the deprecated form: runtime/default, unconfined, localhost/<path>
        if legacy in ("runtime/default", "docker/default"):
            return default_profile(capabilities)
        if legacy.startswith("localhost/"):
            return from_file(legacy.removeprefix("localhost/"))
        if legacy and legacy != "unconfined":
            raise InvalidArgument(
                f"seccomp profile path {legacy!r}: expected runtime/default, unconfined or localhost/<path>"
            )
        return None
    kind = sc.seccomp.profile_type
    if kind == api_pb2.SecurityProfile.Unconfined:
        return None
    if kind == api_pb2.SecurityProfile.Localhost:
        if not sc.seccomp.localhost_ref:
            raise InvalidArgument("seccomp: a Localhost profile needs localhost_ref (a file on the node)")
        return from_file(sc.seccomp.localhost_ref)
    return default_profile(capabilities)
