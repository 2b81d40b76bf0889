"""``kubelab-cni-agent``: install kubelab-cni on this node and keep the pod network's routes.

Start-up, in order (each step idempotent, so a restarted agent changes nothing):

1. follow the cluster's nodes through an informer (list + watch) and wait for this node's
   ``spec.podCIDR``;
2. copy kubelab-cni and its dependencies to ``/opt/kubelab-cni/site-packages`` and write the
   stdlib shim ``/opt/cni/bin/kubelab-cni`` (or, with ``--impl-archive``, a student's plugin
   as ``/opt/cni/bin/kubelab-student``);
3. serve the plugin daemon on the node's ``/run/kubelab-cni/daemon.sock``;
4. adopt the default network's address reservations, write ``05-kubelab-cni.conflist`` and
   disable every other configuration in ``/etc/cni/net.d``;
5. route every other node's podCIDR via its InternalIP: now, and on every node added,
   changed or deleted; every ``--resync`` seconds steps 2, 4 and 5 are re-asserted.

The API server is reached in-cluster (the pod's ServiceAccount) unless ``--kubeconfig`` or
``--server`` says otherwise. SIGTERM or SIGINT stops it.
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from kubelab_client.config import add_connection_flags, api_from_flags
from kubelab_client.kube import Api, ConfigError
from kubelab_client.listwatch import ListerWatcher, ListWatch
from kubelab_client.resources import NODES
from kubelab_cni.agent import install, netconf, routes
from kubelab_cni.agent.errors import AgentError
from kubelab_cni.agent.hostpaths import HostPaths
from kubelab_cni.agent.nodeinfo import NodeInfo
from kubelab_cni.agent.nodewatch import NodeWatcher
from kubelab_kit.entry import entry_point
from kubelab_kit.files import atomic_write
from kubelab_kit.logs import setup_logging
from kubelab_kit.signals import stop_on_signals

log = logging.getLogger("kubelab-cni-agent")

SyncRoutes = Callable[[str, Iterable[NodeInfo], str], object]
RETRY_S = 2.0


class Agent:
    def __init__(
        self, args: argparse.Namespace, lister_watcher: ListerWatcher, *, sync_routes: SyncRoutes = routes.sync_routes
    ) -> None:
        self.args = args
        self.paths = HostPaths(root=args.host_root)
        self.node_name: str = args.node_name
        self.me: NodeInfo | None = None
        self.server: object | None = None
        self.nodes = NodeWatcher(
            lister_watcher, lambda nodes: sync_routes(self.node_name, nodes, args.cluster_cidr), name="nodes"
        )

    @property
    def plugin(self) -> str:
        return install.STUDENT_PLUGIN if self.args.impl_archive else install.PLUGIN

    def install(self) -> None:
        """Steps 2 and 4: files on the node. Cheap when nothing changed."""
        assert self.me is not None
        install.install_site_packages(self.paths)
        install.install_plugin(self.paths)
        if self.args.impl_archive:
            install.install_student(self.paths, Path(self.args.impl_archive))
        else:
            install.remove_student(self.paths)
        netconf.adopt_default_reservations(self.paths, self.me.pod_cidr)
        netconf.enable_bridge_netfilter()
        mtu = netconf.node_mtu(self.me.internal_ip)
        netconf.write_conflist(self.paths, self.me.pod_cidr, self.plugin, mtu)

    def start_daemon(self, stop: threading.Event) -> None:
        """Step 3: the plugin daemon, in this process, on the node's socket."""
        from kubelab_cni.daemon import Server, SocketInUse, preload
        from kubelab_cni.paths import socket_path

        preload()
        path = socket_path()
        deadline = time.monotonic() + 60
        while True:
            try:
                server = Server(path)
                break
            except SocketInUse as exc:  # the previous agent's daemon still answers: wait for it to stop
                if time.monotonic() > deadline or stop.is_set():
                    raise
                log.info("%s; waiting", exc.problem)
                stop.wait(1)
        self.server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5}, daemon=True).start()
        log.info("plugin daemon listening on %s", path.replace(self.paths.root, "", 1))

    def stop(self) -> None:
        server = self.server
        if server is not None:
            server.shutdown()  # type: ignore[attr-defined]
            server.server_close()  # type: ignore[attr-defined]

    def run(self, stop: threading.Event) -> None:
        self.nodes.start(stop)
        self.me = self.nodes.wait_for_pod_cidr(self.node_name, stop)
        if self.me is None:  # stopped while waiting
            return
        if not self.args.impl_archive:
            self.start_daemon(stop)
        self.install()
        self.nodes.enable_sync()
        atomic_write(Path(self.args.ready_file), "ready\n")
        log.info("ready: plugin %s, %d nodes", self.plugin, len(self.nodes.nodes()))
        delay = float(self.args.resync)
        while not stop.wait(delay):
            try:
                self.install()
                self.nodes.sync()
                delay = float(self.args.resync)
            except Exception as exc:
                log.warning("resync failed: %s; retrying in %.0f s", exc, RETRY_S)
                delay = min(RETRY_S, float(self.args.resync))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kubelab-cni-agent", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--node-name", default=os.environ.get("NODE_NAME"), help="this node (default: $NODE_NAME)")
    p.add_argument("--cluster-cidr", required=True, help="the cluster's pod network, e.g. 10.244.0.0/16")
    p.add_argument("--host-root", default="/host", help="where the node's directories are mounted")
    p.add_argument("--impl-archive", help="a student's plugin (tar.gz: bin/<file> or pkg/<package>/)")
    p.add_argument("--resync", type=int, default=60, help="re-assert files and routes every this many seconds")
    p.add_argument("--ready-file", default="/tmp/kubelab-cni-agent.ready")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    add_connection_flags(p)
    return p


def connect(args: argparse.Namespace) -> Api:
    try:
        return api_from_flags(args)
    except ConfigError as exc:
        raise AgentError(
            f"cannot reach the API server: {exc}",
            fix="run the agent in a pod with its ServiceAccount (components/cni/deploy/agent.yaml), "
            "or pass --kubeconfig or --server",
        ) from exc


@entry_point
def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if not args.node_name:
        p.error("--node-name or $NODE_NAME is required")
    if args.resync <= 0:
        p.error("--resync must be positive")
    if args.impl_archive and not Path(args.impl_archive).is_file():
        args.impl_archive = None  # the optional ConfigMap is absent: the reference plugin
    setup_logging(args.verbose)
    # The daemon and the node's fallback processes share the node's run dir (locks, socket).
    run_dir = args.host_root.rstrip("/") + "/run/kubelab-cni"
    os.environ.setdefault("KUBELAB_CNI_RUN_DIR", run_dir)
    os.environ.setdefault("KUBELAB_CNI_SOCKET", run_dir + "/daemon.sock")
    stop = stop_on_signals()
    api = connect(args)
    agent = Agent(args, ListWatch(api, NODES))
    try:
        agent.run(stop)
    finally:
        agent.stop()
        api.close()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
