"""Fixtures: a private "node" namespace per test, pod namespaces, the plugin (through the
daemon or in-process), the reference plugins. Every namespace is removed by a finalizer,
and removing the node namespace takes its bridge, veths and NAT rules with it."""

from __future__ import annotations

import itertools
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kubelab_cluster.toolchain.build import built_binary
from kubelab_cni import netns as nsutil
from kubelab_cni.install import install
from kubelab_kit.cni import Call, Netns, exec_plugin, unique_name

CAN_NETNS = os.geteuid() == 0 and shutil.which("ip") is not None and shutil.which("nsenter") is not None
needs_netns = pytest.mark.skipif(not CAN_NETNS, reason="needs root, iproute2 and nsenter (network namespaces)")

_subnets = itertools.count(random.randrange(0, 200))
REFERENCE_PLUGINS = ("bridge", "host-local", "loopback", "portmap", "ptp", "tuning")


def next_subnet() -> str:
    return f"10.99.{next(_subnets) % 250}.0/24"


@pytest.fixture(scope="session")
def bin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CNI bin dir with the fast kubelab-cni script (and the reference plugins, when built)."""
    directory = tmp_path_factory.mktemp("cni-bin")
    install(directory)
    ref = reference_dir()
    if ref is not None:
        for name in REFERENCE_PLUGINS:
            if (ref / name).exists():
                (directory / name).symlink_to(ref / name)
    return directory


def reference_dir() -> Path | None:
    """The built reference plugins (``$KUBELAB_CNI_REFERENCE_DIR`` overrides the toolchain cache)."""
    if os.environ.get("KUBELAB_CNI_REFERENCE_DIR"):
        return Path(os.environ["KUBELAB_CNI_REFERENCE_DIR"])
    bridge = built_binary("cni-plugins", "bridge")
    return bridge.parent if bridge else None


@pytest.fixture(scope="session")
def cnitool() -> str:
    if os.environ.get("KUBELAB_CNITOOL"):
        return os.environ["KUBELAB_CNITOOL"]
    tool = built_binary("cnitool")
    if tool is None:
        pytest.skip("cnitool is not built (nox -s toolchain)")
    return str(tool)


@pytest.fixture
def node() -> Iterator[Netns]:
    ns = Netns.create("kln")
    yield ns
    ns.delete()


@pytest.fixture
def make_pod() -> Iterator[Callable[[], Netns]]:
    made: list[Netns] = []

    def make() -> Netns:
        ns = Netns.create("klp")
        made.append(ns)
        return ns

    yield make
    for ns in made:
        ns.delete()


@pytest.fixture
def conf(tmp_path: Path) -> dict[str, Any]:
    """A bridge network with a unique bridge name and subnet, its store under tmp_path."""
    return {
        "cniVersion": "1.1.0",
        "name": unique_name("net"),
        "type": "kubelab-cni",
        "bridge": unique_name("kl"),
        "isGateway": True,
        "isDefaultGateway": True,
        "hairpinMode": True,
        "mtu": 1400,
        "ipam": {"type": "host-local", "ranges": [[{"subnet": next_subnet()}]], "dataDir": str(tmp_path / "ipam")},
    }


@dataclass
class Daemon:
    proc: subprocess.Popen[bytes]
    socket: str

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_daemon(node: Netns, socket_path: str, run_dir: str) -> Daemon:
    proc = subprocess.Popen(
        [*node.prefix(), sys.executable, "-m", "kubelab_cni.daemon", "--socket", socket_path],
        env={**os.environ, "KUBELAB_CNI_RUN_DIR": run_dir},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while not os.path.exists(socket_path):
        if proc.poll() is not None or time.monotonic() > deadline:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"daemon did not start: {err}")
        time.sleep(0.02)
    return Daemon(proc, socket_path)


@dataclass
class Plugin:
    """The kubelab-cni executable as the runtime runs it, inside ``node``."""

    binary: str
    node: Netns
    env: dict[str, str]
    mode: str
    run_dir: str
    daemon: Daemon | None = None
    calls: list[Call] = field(default_factory=list)

    def __call__(
        self,
        command: str | None,
        conf: Any,
        *,
        container_id: str | None = "c1",
        pod: Netns | None = None,
        netns: str | None = None,
        ifname: str | None = "eth0",
        extra_env: dict[str, str] | None = None,
    ) -> Call:
        call = exec_plugin(
            self.binary,
            command,
            conf,
            container_id=container_id,
            netns=netns if netns is not None else (pod.path if pod else None),
            ifname=ifname,
            prefix=self.node.prefix(),
            extra_env={**self.env, **(extra_env or {})},
        )
        self.calls.append(call)
        return call


@pytest.fixture(params=["daemon", "inprocess"])
def plugin(request: pytest.FixtureRequest, node: Netns, bin_dir: Path, tmp_path: Path) -> Iterator[Plugin]:
    run_dir = str(tmp_path / "run")
    socket_path = str(tmp_path / "daemon.sock")
    env = {"KUBELAB_CNI_RUN_DIR": run_dir, "KUBELAB_CNI_SOCKET": socket_path}
    daemon = None
    if request.param == "daemon":
        daemon = start_daemon(node, socket_path, run_dir)
    plugin = Plugin(str(bin_dir / "kubelab-cni"), node, env, request.param, run_dir, daemon)
    yield plugin
    if daemon is not None:
        daemon.stop()


def nft_rules(node: Netns) -> list[Any]:
    """This plugin's NAT rules in ``node`` (read over netlink from a helper thread inside it)."""
    from kubelab_cni.masquerade import Masquerade

    def read() -> list[Any]:
        with Masquerade(4) as m:
            return [tag for _, tag in m.rules()]

    with nsutil.opened(node.path) as fd:
        return nsutil.run_inside(fd, read)


def reservations(conf: dict[str, Any]) -> list[str]:
    directory = Path(conf["ipam"]["dataDir"]) / conf["name"]
    if not directory.exists():
        return []
    return sorted(p.name for p in directory.iterdir() if p.name[0].isdigit() or ":" in p.name)


def veths(node: Netns) -> list[str]:
    return sorted(link["ifname"] for link in node.ip_json("link", "show", "type", "veth"))


def leftovers(node: Netns, conf: dict[str, Any]) -> dict[str, list[Any]]:
    return {"veths": veths(node), "reservations": reservations(conf), "nat_rules": nft_rules(node)}


NOTHING = {"veths": [], "reservations": [], "nat_rules": []}
