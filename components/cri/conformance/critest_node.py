"""The node critest runs against: kubelab-cri as a process on this host (cgroupfs driver, runc
from the toolchain, a ptp + host-local + portmap CNI network, registry mirrors to the local
registry), everything under one work directory, and its teardown: every pod and container
removed through the socket (``crictl rmp -fa``, ``rm -fa``) before the runtime stops, then a
check that nothing of this run is left (network namespaces, runc containers, monitors, mounts).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

NETNS_DIR = Path("/var/run/netns")
NETNS_PREFIX = "kcri-"  # kubelab_cri.runtime.sandboxes.NETNS_PREFIX
SUBNET = "10.250.79.0/24"


@dataclass(frozen=True)
class Tools:
    critest: Path
    crictl: Path
    runc: Path
    cni_bin_dir: Path


@dataclass(frozen=True)
class Node:
    socket: Path
    work: Path
    tools: Tools
    log: Path

    @property
    def endpoint(self) -> str:
        return f"unix://{self.socket}"

    def crictl(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.tools.crictl), "--runtime-endpoint", self.endpoint, "--image-endpoint", self.endpoint, *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def write_conflist(work: Path) -> Path:
    """The node's CNI network (no masquerade: critest reaches pods from this host only)."""
    conf_dir = work / "net.d"
    conf_dir.mkdir(parents=True, exist_ok=True)
    ipam = {"type": "host-local", "ranges": [[{"subnet": SUBNET}]], "dataDir": str(work / "ipam")}
    plugins = [
        {"type": "ptp", "ipMasq": False, "ipam": ipam},
        {"type": "portmap", "capabilities": {"portMappings": True}},
    ]
    network = {"cniVersion": "1.0.0", "name": "critest", "plugins": plugins}
    (conf_dir / "10-critest.conflist").write_text(json.dumps(network, indent=2))
    return conf_dir


def our_netns() -> set[str]:
    return {p.name for p in NETNS_DIR.iterdir() if p.name.startswith(NETNS_PREFIX)} if NETNS_DIR.is_dir() else set()


def _serve_command(node: Node, mirrors: Mapping[str, str]) -> list[str]:
    binary = Path(sys.executable).parent / "kubelab-cri"
    cmd = [str(binary), "serve", "--listen", str(node.socket), "--root", str(node.work / "root")]
    cmd += ["--runc", str(node.tools.runc), "--runc-root", str(node.work / "runc"), "--cgroup-driver", "cgroupfs"]
    cmd += ["--cni-conf-dir", str(write_conflist(node.work)), "--cni-bin-dir", str(node.tools.cni_bin_dir)]
    for host, url in mirrors.items():
        cmd += ["--registry-mirror", f"{host}={url}"]
    return cmd


def _wait_ready(node: Node, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"kubelab-cri exited ({proc.returncode}); its log: {node.log}")
        if node.socket.exists() and node.crictl("version", timeout=10).returncode == 0:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"kubelab-cri did not answer on {node.socket} in {timeout:.0f} s; its log: {node.log}")
        time.sleep(0.2)


@contextmanager
def running_node(work: Path, tools: Tools, mirrors: Mapping[str, str]) -> Iterator[Node]:
    """kubelab-cri serving on ``work/cri.sock`` until the block ends, then torn down (see the module)."""
    node = Node(work / "cri.sock", work, tools, work / "kubelab-cri.log")
    with node.log.open("wb") as log:
        proc = subprocess.Popen(_serve_command(node, mirrors), stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_ready(node, proc)
            yield node
        finally:
            remove_everything(node, proc)
            stop(proc)


def remove_everything(node: Node, proc: subprocess.Popen[bytes]) -> None:
    """Every pod and container, through the runtime (it is their owner), while it still runs."""
    if proc.poll() is not None:
        print(f"kubelab-cri died during the run ({proc.returncode}); its log: {node.log}", file=sys.stderr)
        return
    for args in (("rm", "-fa"), ("rmp", "-fa")):
        try:
            done = node.crictl(*args, timeout=300)
        except subprocess.TimeoutExpired:
            print(f"crictl {' '.join(args)}: timed out", file=sys.stderr)
            continue
        if done.returncode != 0:
            print(f"crictl {' '.join(args)}: {done.stderr.strip()}", file=sys.stderr)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _processes_under(work: Path) -> dict[int, str]:
    """Processes started for this run (container monitors name their state directory under ``work``)."""
    found = {}
    needle = str(work).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmdline:
            found[int(entry.name)] = cmdline.replace(b"\0", b" ").decode(errors="replace")[:120]
    return found


def _mounts_under(work: Path) -> list[str]:
    prefix = str(work) + "/"
    points = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    return [p for p in points if p.startswith(prefix)]


def leftovers(node: Node, netns_before: set[str]) -> list[str]:
    """What this run left behind, each as a sentence; kills leftover processes of the run (ours)."""
    found = [f"network namespace {NETNS_DIR / name}" for name in sorted(our_netns() - netns_before)]
    listing = subprocess.run(
        [str(node.tools.runc), "--root", str(node.work / "runc"), "list", "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    found += [f"runc container {cid}" for cid in listing.stdout.split()]
    for pid, cmdline in _processes_under(node.work).items():
        found.append(f"process {pid}: {cmdline}")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    found += [f"mount {point}" for point in _mounts_under(node.work)]
    return found
