"""The OCI runtime spec (a bundle's ``config.json``) for one container (book 4.3).

Built from three inputs, as containerd's CRI plugin does:

- the image config: entrypoint, cmd, env, working dir, user, stop signal;
- the CRI ``ContainerConfig``: command/args (Kubernetes' rules for overriding the image's),
  env, mounts (the kubelet's volumes, ``/etc/hosts``, the termination log), devices,
  security context (privileged, capabilities, user and groups, read-only root, no new privs,
  masked and read-only paths, namespaces) and resources (CPU shares, quota and period, memory,
  cpusets, hugepages, OOM score);
- the sandbox: its network namespace, hostname, DNS (``resolv.conf``), sysctls and cgroup parent.

The runtime never asks runc for a capability it does not hold itself: a privileged container
gets this process's bounding set, which on some hosts (this one) lacks ``CAP_SYS_RESOURCE``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubelab_cri.runtime import seccomp
from kubelab_cri.runtime.users import User
from kubelab_kit import capabilities
from kubelab_kit.grpc import InvalidArgument, Unimplemented
from kubelab_protos.gen.cri.v1 import api_pb2

OCI_VERSION = "1.2.0"
DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# containerd's default set for an unprivileged container.
DEFAULT_CAPABILITIES = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
)
MASKED_PATHS = (
    "/proc/acpi",
    "/proc/asound",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
)
READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")
PROPAGATION = {
    api_pb2.PROPAGATION_PRIVATE: "rprivate",
    api_pb2.PROPAGATION_HOST_TO_CONTAINER: "rslave",
    api_pb2.PROPAGATION_BIDIRECTIONAL: "rshared",
}


@dataclass(frozen=True)
class PodContext:
    """What a container takes from its sandbox."""

    netns_path: str  # "" for a host-network pod
    hostname: str
    resolv_conf: Path | None
    hostname_file: Path | None
    sysctls: Mapping[str, str]
    cgroup_parent: str
    ipc_path: str | None = None  # the pod's pinned namespaces (None: the container gets its own)
    uts_path: str | None = None
    pid_path: str | None = None  # the pod's PID namespace, while its holder runs


def held_capabilities() -> set[str]:
    """The capabilities in this process's bounding set: the most a container can be given."""
    caps, last = capabilities.read_own()
    return {capabilities.cap_name(bit) for bit in range(last + 1) if caps.has(bit)}


def _cap(name: str) -> str:
    name = name.upper()
    return name if name.startswith("CAP_") else f"CAP_{name}"


def capability_set(privileged: bool, add: Iterable[str], drop: Iterable[str], held: set[str]) -> list[str]:
    if privileged:
        return sorted(held)
    add_set, drop_set = {_cap(c) for c in add}, {_cap(c) for c in drop}
    every = set(capabilities.CAPABILITY_NAMES)
    unknown = sorted((add_set | drop_set) - every - {"CAP_ALL"})
    if unknown:
        raise InvalidArgument(f"unknown capabilities: {', '.join(unknown)}")
    caps = every if "CAP_ALL" in add_set else set(DEFAULT_CAPABILITIES)
    if "CAP_ALL" in drop_set:  # drop ALL, then add: only what is added
        caps = set()
    caps = (caps | (add_set - {"CAP_ALL"})) - (drop_set - {"CAP_ALL"})
    return sorted(caps & held)


def process_args(image_config: Mapping[str, Any], command: list[str], args: list[str]) -> list[str]:
    """Kubernetes' rules: ``command`` replaces the image's entrypoint (and drops its cmd);
    ``args`` alone replace the cmd."""
    entrypoint = list(image_config.get("Entrypoint") or [])
    cmd = list(image_config.get("Cmd") or [])
    argv = command + args if command else entrypoint + (args or cmd)
    if not argv:
        raise InvalidArgument("no command: neither the container nor its image names one")
    return argv


def environment(image_config: Mapping[str, Any], envs: Iterable[api_pb2.KeyValue], hostname: str) -> list[str]:
    merged: dict[str, str] = {}
    for item in image_config.get("Env") or [DEFAULT_PATH]:
        key, _, value = str(item).partition("=")
        merged[key] = value
    merged.setdefault("PATH", DEFAULT_PATH.split("=", 1)[1])
    if hostname:
        merged["HOSTNAME"] = hostname
    for kv in envs:  # the CRI's values are bytes; the OCI spec's environment is text
        merged[kv.key] = kv.value.decode(errors="replace")
    return [f"{k}={v}" for k, v in merged.items()]


def _bind(destination: str, source: str, options: list[str]) -> dict[str, Any]:
    return {"destination": destination, "type": "bind", "source": source, "options": ["rbind", *options]}


def base_mounts(privileged: bool) -> list[dict[str, Any]]:
    ro = [] if privileged else ["ro"]
    return [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
        {
            "destination": "/dev",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
        },
        {
            "destination": "/dev/pts",
            "type": "devpts",
            "source": "devpts",
            "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
        },
        {
            "destination": "/dev/shm",
            "type": "tmpfs",
            "source": "shm",
            "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        },
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", *ro]},
        {
            "destination": "/sys/fs/cgroup",
            "type": "cgroup",
            "source": "cgroup",
            "options": ["nosuid", "noexec", "nodev", "relatime", *ro],
        },
    ]


def request_mounts(mounts: Iterable[api_pb2.Mount]) -> list[dict[str, Any]]:
    out = []
    for m in mounts:
        if m.HasField("image") and m.image.image:
            raise Unimplemented(f"mount {m.container_path}: image volumes are not supported by kubelab-cri")
        if not m.container_path.startswith("/"):
            raise InvalidArgument(f"mount {m.container_path!r}: the container path must be absolute")
        if not os.path.exists(m.host_path):
            if m.host_path.startswith("/"):
                os.makedirs(m.host_path, exist_ok=True)  # as containerd: a missing host directory is created
            else:
                raise InvalidArgument(f"mount {m.container_path}: host path {m.host_path!r} must be absolute")
        options = [PROPAGATION.get(m.propagation, "rprivate"), "ro" if m.readonly else "rw"]
        if m.recursive_read_only:
            if not m.readonly:
                raise InvalidArgument(f"mount {m.container_path}: recursive read-only needs readonly")
            options.append("rro")
        out.append(_bind(m.container_path, m.host_path, [*options, *m.mount_options]))
    return out


def device_entries(devices: Iterable[api_pb2.Device]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Requested host devices: the nodes to create, and the cgroup rules allowing them."""
    nodes, rules = [], []
    for d in devices:
        try:
            st = os.stat(d.host_path)
        except OSError as exc:
            raise InvalidArgument(f"device {d.host_path!r}: {exc.strerror}") from exc
        if not (stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)):
            raise InvalidArgument(f"device {d.host_path!r} is not a character or block device")
        kind = "c" if stat.S_ISCHR(st.st_mode) else "b"
        major, minor = os.major(st.st_rdev), os.minor(st.st_rdev)
        nodes.append(
            {
                "path": d.container_path or d.host_path,
                "type": kind,
                "major": major,
                "minor": minor,
                "fileMode": stat.S_IMODE(st.st_mode),
                "uid": 0,
                "gid": 0,
            }
        )
        rules.append({"allow": True, "type": kind, "major": major, "minor": minor, "access": d.permissions or "rwm"})
    return nodes, rules


def host_devices() -> list[api_pb2.Device]:
    """Every device node at the top of the host's /dev: what a privileged container gets."""
    out = []
    for entry in sorted(os.scandir("/dev"), key=lambda e: e.name):
        try:
            mode = entry.stat(follow_symlinks=False).st_mode
        except OSError:
            continue
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            out.append(api_pb2.Device(container_path=entry.path, host_path=entry.path, permissions="rwm"))
    return out


def resources(r: api_pb2.LinuxContainerResources) -> dict[str, Any]:
    cpu: dict[str, Any] = {}
    if r.cpu_shares:
        cpu["shares"] = r.cpu_shares
    if r.cpu_quota:
        cpu["quota"] = r.cpu_quota
    if r.cpu_period:
        cpu["period"] = r.cpu_period
    if r.cpuset_cpus:
        cpu["cpus"] = r.cpuset_cpus
    if r.cpuset_mems:
        cpu["mems"] = r.cpuset_mems
    out: dict[str, Any] = {"devices": [{"allow": False, "access": "rwm"}]}
    if cpu:
        out["cpu"] = cpu
    memory: dict[str, Any] = {}
    if r.memory_limit_in_bytes > 0:
        memory["limit"] = r.memory_limit_in_bytes
    if r.memory_swap_limit_in_bytes > 0:
        memory["swap"] = r.memory_swap_limit_in_bytes
    if memory:
        out["memory"] = memory
    if r.hugepage_limits:
        out["hugepageLimits"] = [{"pageSize": h.page_size, "limit": h.limit} for h in r.hugepage_limits]
    return out


def oom_score_adj(wanted: int, held: set[str], own: Path = Path("/proc/self/oom_score_adj")) -> int:
    """The score the container gets. Lowering a score below one's own needs CAP_SYS_RESOURCE; a
    runtime without it (this host withholds it) gives no less than its own, as containerd's
    ``restrict_oom_score_adj`` does, instead of failing (the kubelet asks -997 for kube-proxy)."""
    if "CAP_SYS_RESOURCE" in held:
        return wanted
    try:
        floor = int(own.read_text())
    except (OSError, ValueError):
        return wanted
    return max(wanted, floor)


def cgroups_path(driver: str, parent: str, container_id: str) -> str:
    """runc's ``cgroupsPath``: ``slice:prefix:name`` for systemd, a path for cgroupfs."""
    if driver == "systemd":
        # the kubelet sends the slice's whole path (/kubelet.slice/kubelet-kubepods.slice/...-pod<uid>.slice);
        # a systemd slice is named by its last component, which encodes its parents
        slice_name = parent.rstrip("/").rsplit("/", 1)[-1] if parent else "system.slice"
        return f"{slice_name}:kcri:{container_id}"
    return f"{parent or '/kubelab-cri'}/kcri-{container_id}"


def namespaces(
    options: api_pb2.NamespaceOption | None, pod: PodContext, target_pid: int | None
) -> list[dict[str, Any]]:
    """The container's namespaces. No options at all (not what the kubelet sends) means the
    kubelet's defaults: a PID namespace of its own, the pod's IPC."""
    if options is None:
        options = api_pb2.NamespaceOption(pid=api_pb2.CONTAINER, ipc=api_pb2.POD)
    out: list[dict[str, Any]] = [{"type": "mount"}]
    if pod.netns_path:
        out.append({"type": "network", "path": pod.netns_path})
        out.append(_joined("uts", pod.uts_path))  # the pod's hostname; host-network pods keep the node's
    if options.ipc == api_pb2.POD:
        out.append(_joined("ipc", pod.ipc_path))
    elif options.ipc == api_pb2.CONTAINER:
        out.append({"type": "ipc"})
    if options.pid == api_pb2.CONTAINER:
        out.append({"type": "pid"})
    elif options.pid == api_pb2.TARGET:
        if target_pid is None:
            raise InvalidArgument(f"target container {options.target_id!r} is not running")
        out.append({"type": "pid", "path": f"/proc/{target_pid}/ns/pid"})
    elif options.pid == api_pb2.POD:
        if pod.pid_path is None:
            raise InvalidArgument(
                "namespace_options.pid is POD but the sandbox has no pod-wide PID namespace (its config did "
                "not ask for one, or its holder is gone)"
            )
        out.append({"type": "pid", "path": pod.pid_path})
    return out


def _joined(kind: str, path: str | None) -> dict[str, Any]:
    """Join the pod's pinned namespace, or a new one when the sandbox has none pinned."""
    return {"type": kind, "path": path} if path else {"type": kind}


def build(
    *,
    config: api_pb2.ContainerConfig,
    image_config: Mapping[str, Any],
    user: User,
    pod: PodContext,
    container_id: str,
    cgroup_driver: str,
    held: set[str],
    target_pid: int | None = None,
) -> dict[str, Any]:
    sc = config.linux.security_context
    privileged = sc.privileged
    image_cfg = image_config.get("config") or {}
    caps = capability_set(privileged, sc.capabilities.add_capabilities, sc.capabilities.drop_capabilities, held)
    ambient = sorted({_cap(c) for c in sc.capabilities.add_ambient_capabilities} & set(caps))
    mounts = base_mounts(privileged)
    wanted = {m.container_path for m in config.mounts}
    if pod.resolv_conf is not None and "/etc/resolv.conf" not in wanted:
        mounts.append(
            _bind("/etc/resolv.conf", str(pod.resolv_conf), ["rprivate", "ro" if sc.readonly_rootfs else "rw"])
        )
    if pod.hostname_file is not None and "/etc/hostname" not in wanted:
        mounts.append(
            _bind("/etc/hostname", str(pod.hostname_file), ["rprivate", "ro" if sc.readonly_rootfs else "rw"])
        )
    mounts += request_mounts(config.mounts)
    devices = list(config.devices) + (host_devices() if privileged else [])
    nodes, rules = device_entries(devices)
    res = resources(config.linux.resources)
    if privileged:
        res["devices"] = [{"allow": True, "access": "rwm"}]
    else:
        res["devices"] += rules
    process: dict[str, Any] = {
        "terminal": config.tty,
        "user": {"uid": user.uid, "gid": user.gid, "additionalGids": user.additional_gids},
        "args": process_args(image_cfg, list(config.command), list(config.args)),
        "env": environment(image_cfg, config.envs, pod.hostname),
        "cwd": config.working_dir or image_cfg.get("WorkingDir") or "/",
        "capabilities": {
            "bounding": caps,
            "effective": caps,
            "permitted": caps,
            "ambient": ambient,
        },
        "noNewPrivileges": sc.no_new_privs,
    }
    if config.linux.resources.oom_score_adj:
        process["oomScoreAdj"] = oom_score_adj(config.linux.resources.oom_score_adj, held)
    linux: dict[str, Any] = {
        "namespaces": namespaces(sc.namespace_options if sc.HasField("namespace_options") else None, pod, target_pid),
        "cgroupsPath": cgroups_path(cgroup_driver, pod.cgroup_parent, container_id),
        "resources": res,
        "devices": nodes,
        "sysctl": dict(pod.sysctls),
    }
    filtered = seccomp.profile(sc, caps, privileged)
    if filtered is not None:
        linux["seccomp"] = filtered
    propagations = {m.propagation for m in config.mounts}
    if api_pb2.PROPAGATION_BIDIRECTIONAL in propagations:  # a mount made inside must reach the host
        linux["rootfsPropagation"] = "rshared"
    elif api_pb2.PROPAGATION_HOST_TO_CONTAINER in propagations:
        linux["rootfsPropagation"] = "rslave"
    if not privileged:
        linux["maskedPaths"] = list(sc.masked_paths) or list(MASKED_PATHS)
        linux["readonlyPaths"] = list(sc.readonly_paths) or list(READONLY_PATHS)
    spec: dict[str, Any] = {
        "ociVersion": OCI_VERSION,
        "process": process,
        "root": {"path": "rootfs", "readonly": sc.readonly_rootfs},
        "mounts": mounts,
        "linux": linux,
        "annotations": dict(config.annotations),
    }
    if pod.netns_path and pod.hostname:
        spec["hostname"] = pod.hostname
    return spec


def exec_process(spec: Mapping[str, Any], argv: list[str], tty: bool = False) -> dict[str, Any]:
    """The process spec ``runc exec --process`` runs: the container's, with other args."""
    if not argv:
        raise InvalidArgument("exec: the command is empty")
    process = dict(spec["process"])
    process["args"] = argv
    process["terminal"] = tty
    return process
