"""What the agent does to its node, each step idempotent: run it twice, nothing changes.

Paths are the node's, seen through ``HostPaths.root`` (the agent's pod mounts the node's
directories under ``/host``); the files written there name the node's own paths.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import os
import re
import shutil
import socket
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

from kubelab_cni.agent.kube import NodeInfo
from kubelab_cni.install import plugin_script

log = logging.getLogger("kubelab-cni-agent")

PLUGIN = "kubelab-cni"
STUDENT_PLUGIN = "kubelab-student"
NETWORK = "kubelab"
BRIDGE = "kubelab0"
CONFLIST_NAME = "05-kubelab-cni.conflist"
DISABLED_SUFFIX = ".kubelab-disabled"
CNI_CONFIG_SUFFIXES = (".conf", ".conflist", ".json")
DEFAULT_NETWORK_STORE = "/run/cni-ipam-state/kubelab-default"
IPAM_DATA_DIR = "/var/lib/cni/networks"
ROUTE_PROTO = 0x4B  # "kubelab": marks the routes this agent owns (ip route shows `proto 75`)
RT_TABLE_MAIN = 254


@dataclass(frozen=True)
class HostPaths:
    """The node's paths, and where this process sees them."""

    root: str = "/host"
    cni_bin: str = "/opt/cni/bin"
    cni_conf: str = "/etc/cni/net.d"
    lib: str = "/opt/kubelab-cni"
    run: str = "/run"
    python: str = "/usr/bin/python3"

    def here(self, node_path: str) -> Path:
        """Where this process sees the node's ``node_path``."""
        return Path(self.root + node_path) if self.root not in ("", "/") else Path(node_path)

    @property
    def site_packages(self) -> str:
        return f"{self.lib}/site-packages"


def _write_if_changed(path: Path, data: bytes, mode: int = 0o644) -> bool:
    try:
        if path.read_bytes() == data and (path.stat().st_mode & 0o777) == mode:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.chmod(mode)
    os.replace(tmp, path)
    return True


def _swap_symlink(link: Path, target: str) -> bool:
    if link.is_symlink() and os.readlink(link) == target:
        return False
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    if link.is_dir() and not link.is_symlink():
        shutil.rmtree(link)
    os.replace(tmp, link)
    return True


# -- the plugin's files --------------------------------------------------------------------

_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def distribution_closure(root: str = "kubelab-cni") -> list[metadata.Distribution]:
    """``root`` and every distribution it requires (extras-only requirements left out)."""
    seen: dict[str, metadata.Distribution] = {}
    todo = [root]
    while todo:
        name = _normalize(todo.pop())
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional dependency for another Python or platform
        seen[name] = dist
        for req in dist.requires or []:
            if "extra" in req.partition(";")[2]:
                continue
            m = _REQ_NAME.match(req)
            if m:
                todo.append(m.group(1))
    return [seen[k] for k in sorted(seen)]


# Per-installation metadata (a temp wheel path, timestamps): not needed to import, and it would
# give two builds of the same sources different keys.
_INSTALL_RECORDS = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "uv_cache.json"})


def _closure_files(dists: Iterable[metadata.Distribution]) -> dict[str, Path]:
    """relative path in site-packages -> source file (no byte code, nothing outside site-packages)."""
    files: dict[str, Path] = {}
    for dist in dists:
        for rel in dist.files or []:
            parts = PurePosixPath(str(rel)).parts
            if not parts or parts[0] == ".." or "__pycache__" in parts or str(rel).endswith(".pyc"):
                continue
            if parts[-1] in _INSTALL_RECORDS:
                continue
            src = Path(str(dist.locate_file(rel)))
            if src.is_file():
                files[str(rel)] = src
    return files


def install_site_packages(paths: HostPaths) -> str:
    """Copy kubelab-cni and its dependencies to ``<lib>/site-packages-<key>``; point ``site-packages`` at it.

    The in-process fallback of the shim imports them from there with the node's python3,
    so the plugin works while no agent (no daemon) runs on the node.
    """
    files = _closure_files(distribution_closure())
    files = {rel: src for rel, src in files.items() if not rel.endswith(".pth")}
    if not any(rel.startswith("kubelab_cni/") for rel in files):  # an editable install (development)
        import kubelab_cni

        package = Path(kubelab_cni.__file__).parent
        for src in package.rglob("*.py"):
            files[str(src.relative_to(package.parent))] = src
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(rel.encode() + b"\0" + files[rel].read_bytes())
    key = h.hexdigest()[:12]
    lib = paths.here(paths.lib)
    target = lib / f"site-packages-{key}"
    if not (target / ".complete").exists():
        staging = lib / f".staging-{key}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        for rel, src in files.items():
            dst = staging / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
        (staging / ".complete").write_text(f"{len(files)} files\n")
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
        log.info("installed %d files of %s into %s", len(files), PLUGIN, f"{paths.lib}/{target.name}")
    if _swap_symlink(lib / "site-packages", target.name):
        log.info("%s -> %s", paths.site_packages, target.name)
    for old in lib.glob("site-packages-*"):
        if old.name != target.name:
            shutil.rmtree(old, ignore_errors=True)
    return key


def install_plugin(paths: HostPaths) -> bool:
    """The stdlib-only shim as ``<cni_bin>/kubelab-cni``, run by the node's python3."""
    script = plugin_script(python=paths.python, paths=[paths.site_packages])
    changed = _write_if_changed(paths.here(paths.cni_bin) / PLUGIN, script.encode(), 0o755)
    if changed:
        log.info("wrote %s/%s", paths.cni_bin, PLUGIN)
    return changed


STUDENT_TEMPLATE = """#!{python} -I
# A student's CNI plugin package, installed by kubelab-cni-agent from the lab's --impl.
import runpy
import sys
sys.path[:0] = [{pkg_dir!r}]
sys.path.append({site_packages!r})
runpy.run_module({module!r}, run_name="__main__", alter_sys=True)
"""


def _safe_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """Regular files and directories under the archive's root only (Debian's 3.11.2 has no extraction filter)."""
    members = []
    for m in tar.getmembers():
        parts = PurePosixPath(m.name).parts
        if m.name.startswith("/") or ".." in parts or not (m.isfile() or m.isdir()):
            raise RuntimeError(f"--impl archive: refusing member {m.name!r}")
        m.mode = (m.mode & 0o755) | (0o200 if m.isfile() else 0o700)
        members.append(m)
    return members


def install_student(paths: HostPaths, archive: Path) -> str:
    """Unpack ``--impl`` (a tar.gz holding ``bin/<file>`` or ``pkg/<package>/``) as ``kubelab-student``."""
    data = archive.read_bytes()
    key = hashlib.sha256(data).hexdigest()[:12]
    lib = paths.here(paths.lib)
    target = lib / f"impl-{key}"
    if not (target / ".complete").exists():
        staging = lib / f".staging-impl-{key}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        with tarfile.open(archive) as tar:
            tar.extractall(staging, members=_safe_members(tar))
        (staging / ".complete").write_text("ok\n")
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
    binary = paths.here(paths.cni_bin) / STUDENT_PLUGIN
    executables = sorted((target / "bin").glob("*")) if (target / "bin").is_dir() else []
    packages = sorted(p for p in (target / "pkg").glob("*") if p.is_dir()) if (target / "pkg").is_dir() else []
    if executables:
        _write_if_changed(binary, executables[0].read_bytes(), 0o755)
    elif packages:
        script = STUDENT_TEMPLATE.format(
            python=paths.python,
            pkg_dir=f"{paths.lib}/{target.name}/pkg",
            site_packages=paths.site_packages,
            module=packages[0].name,
        )
        _write_if_changed(binary, script.encode(), 0o755)
    else:
        raise RuntimeError(f"{archive}: neither bin/<executable> nor pkg/<package>/ inside")
    for old in lib.glob("impl-*"):
        if old.name != target.name:
            shutil.rmtree(old, ignore_errors=True)
    return key


def remove_student(paths: HostPaths) -> None:
    (paths.here(paths.cni_bin) / STUDENT_PLUGIN).unlink(missing_ok=True)
    for old in paths.here(paths.lib).glob("impl-*"):
        shutil.rmtree(old, ignore_errors=True)


# -- the network configuration -------------------------------------------------------------


def conflist(pod_cidr: str, plugin: str = PLUGIN, mtu: int = 1500) -> dict[str, Any]:
    return {
        "cniVersion": "1.0.0",
        "name": NETWORK,
        "plugins": [
            {
                "type": plugin,
                "bridge": BRIDGE,
                "isGateway": True,
                "isDefaultGateway": True,
                "ipMasq": True,
                "hairpinMode": True,
                "mtu": mtu,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": pod_cidr}]],
                    "dataDir": IPAM_DATA_DIR,
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}, "snat": True},
        ],
    }


def render_conflist(pod_cidr: str, plugin: str = PLUGIN, mtu: int = 1500) -> bytes:
    return (json.dumps(conflist(pod_cidr, plugin, mtu), indent=2) + "\n").encode()


def write_conflist(paths: HostPaths, pod_cidr: str, plugin: str, mtu: int) -> bool:
    """Ours first (``05-`` sorts before the default ``10-``), then every other config disabled."""
    conf_dir = paths.here(paths.cni_conf)
    changed = _write_if_changed(conf_dir / CONFLIST_NAME, render_conflist(pod_cidr, plugin, mtu))
    if changed:
        log.info("wrote %s/%s (type %s, podCIDR %s)", paths.cni_conf, CONFLIST_NAME, plugin, pod_cidr)
    for entry in sorted(conf_dir.iterdir()):
        if entry.name != CONFLIST_NAME and entry.name.endswith(CNI_CONFIG_SUFFIXES) and entry.is_file():
            os.replace(entry, entry.with_name(entry.name + DISABLED_SUFFIX))
            log.info("disabled %s/%s (renamed to %s%s)", paths.cni_conf, entry.name, entry.name, DISABLED_SUFFIX)
            changed = True
    return changed


def adopt_default_reservations(paths: HostPaths, pod_cidr: str) -> list[str]:
    """Move the default network's address reservations into ours.

    Pods started on the default network keep their addresses; without this our IPAM would
    hand the same addresses out again. When such a pod goes away, its DEL (through our
    configuration now) releases the adopted reservation like any other.
    """
    from kubelab_cni.ipam.store import Store

    source = paths.here(paths.run) / DEFAULT_NETWORK_STORE.removeprefix("/run/")
    if not source.is_dir():
        return []
    subnet = ipaddress.ip_network(pod_cidr)
    adopted = []
    with Store(IPAM_DATA_DIR, NETWORK).locked() as store:
        for entry in sorted(source.iterdir()):
            try:
                address = ipaddress.ip_address(entry.name)
            except ValueError:
                continue
            if address not in subnet:
                continue
            lines = entry.read_bytes().decode(errors="replace").splitlines()
            container_id = lines[0].strip() if lines else ""
            ifname = lines[1].strip() if len(lines) > 1 else "eth0"
            if store.reserve(address, container_id, ifname):
                adopted.append(str(address))
            entry.unlink()
    if adopted:
        log.info("adopted the default network's reservations: %s", ", ".join(adopted))
    return adopted


def enable_bridge_netfilter() -> None:
    """Bridged pod-to-pod traffic must pass iptables (kube-proxy's Service NAT on one node)."""
    for name in ("bridge-nf-call-iptables", "bridge-nf-call-ip6tables"):
        path = Path("/proc/sys/net/bridge") / name
        if path.exists() and path.read_text().strip() != "1":
            path.write_text("1\n")
            log.info("set net.bridge.%s = 1", name)


# -- routes to the other nodes' pods -------------------------------------------------------


def node_mtu(internal_ip: str) -> int:
    from kubelab_cni.netlink import host

    with host() as ipr:
        for addr in ipr.get_addr(family=socket.AF_INET):
            if addr.get_attr("IFA_ADDRESS") == internal_ip:
                mtu: int = ipr.link("get", index=addr["index"])[0].get_attr("IFLA_MTU")
                return mtu
    return 1500


def sync_routes(own: str, nodes: Iterable[NodeInfo], cluster_cidr: str) -> list[str]:
    """One route per other node: its podCIDR via its InternalIP; routes to departed nodes removed."""
    from kubelab_cni.netlink import host

    cluster = ipaddress.ip_network(cluster_cidr)
    desired = {
        ipaddress.ip_network(n.pod_cidr): n.internal_ip
        for n in nodes
        if n.name != own and n.pod_cidr and n.internal_ip and ":" not in n.pod_cidr
    }
    changes: list[str] = []
    with host() as ipr:
        present: dict[ipaddress.IPv4Network | ipaddress.IPv6Network, tuple[str | None, int]] = {}
        for r in ipr.get_routes(family=socket.AF_INET, table=RT_TABLE_MAIN):
            dst = r.get_attr("RTA_DST")
            if dst is None:
                continue
            net = ipaddress.ip_network(f"{dst}/{r['dst_len']}")
            present[net] = (r.get_attr("RTA_GATEWAY"), r["proto"])
        for net, gw in sorted(desired.items(), key=lambda kv: str(kv[0])):
            if present.get(net) == (gw, ROUTE_PROTO):
                continue
            ipr.route("replace", dst=str(net), gateway=gw, proto=ROUTE_PROTO, table=RT_TABLE_MAIN)
            changes.append(f"{net} via {gw}")
        for net, (via, _proto) in present.items():
            if via and net.version == cluster.version and net.subnet_of(cluster) and net not in desired:  # type: ignore[arg-type]
                ipr.route("del", dst=str(net), gateway=via, table=RT_TABLE_MAIN)
                changes.append(f"{net} via {via} removed")
    for c in changes:
        log.info("route %s", c)
    return changes
