"""``kubelab-cni-agent``: install kubelab-cni on this node and keep the pod network's routes.

Start-up, in order (each step idempotent, so a restarted agent changes nothing):

1. wait for this node's ``spec.podCIDR``;
2. copy kubelab-cni and its dependencies to ``/opt/kubelab-cni/site-packages`` and write the
   stdlib shim ``/opt/cni/bin/kubelab-cni`` (or, with ``--impl-archive``, a student's plugin
   as ``/opt/cni/bin/kubelab-student``);
3. serve the plugin daemon on the node's ``/run/kubelab-cni/daemon.sock``;
4. adopt the default network's address reservations, write ``05-kubelab-cni.conflist`` and
   disable every other configuration in ``/etc/cni/net.d``;
5. route every other node's podCIDR via its InternalIP, following a watch on nodes, with a
   full resync every ``--resync`` seconds (which also re-asserts steps 2 and 4).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from kubelab_cni.agent import node
from kubelab_cni.agent.kube import Api, NodeInfo, node_info

log = logging.getLogger("kubelab-cni-agent")


class Agent:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.paths = node.HostPaths(root=args.host_root)
        self.node_name: str = args.node_name
        self.api = Api.in_cluster()
        self.me: NodeInfo | None = None
        self.nodes: dict[str, NodeInfo] = {}
        self.server: object | None = None

    @property
    def plugin(self) -> str:
        return node.STUDENT_PLUGIN if self.args.impl_archive else node.PLUGIN

    def wait_for_pod_cidr(self) -> NodeInfo:
        while True:
            try:
                me = self.api.get_node(self.node_name)
                if me.pod_cidr:
                    return me
                log.info("node %s has no podCIDR yet", self.node_name)
            except OSError as exc:
                log.warning("cannot read node %s: %s", self.node_name, exc)
            time.sleep(2)

    def install(self) -> None:
        """Steps 2 and 4: files on the node. Cheap when nothing changed."""
        assert self.me is not None
        node.install_site_packages(self.paths)
        node.install_plugin(self.paths)
        if self.args.impl_archive:
            node.install_student(self.paths, Path(self.args.impl_archive))
        else:
            node.remove_student(self.paths)
        node.adopt_default_reservations(self.paths, self.me.pod_cidr)
        node.enable_bridge_netfilter()
        mtu = node.node_mtu(self.me.internal_ip)
        node.write_conflist(self.paths, self.me.pod_cidr, self.plugin, mtu)

    def start_daemon(self) -> None:
        """Step 3: the plugin daemon, in this process, on the node's socket."""
        from kubelab_cni.daemon import Server, preload
        from kubelab_cni.paths import socket_path

        preload()
        path = socket_path()
        deadline = time.monotonic() + 60
        while True:
            try:
                server = Server(path)
                break
            except SystemExit as exc:  # the previous agent's daemon still answers: wait for it to stop
                if time.monotonic() > deadline:
                    raise
                log.info("%s; waiting", exc)
                time.sleep(1)
        self.server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5}, daemon=True).start()
        log.info("plugin daemon listening on %s", path.replace(self.paths.root, "", 1))

    def stop(self) -> None:
        server = self.server
        if server is not None:
            server.shutdown()  # type: ignore[attr-defined]
            server.server_close()  # type: ignore[attr-defined]

    def resync(self) -> str:
        items, rv = self.api.list_nodes()
        self.nodes = {n.name: n for n in items}
        node.sync_routes(self.node_name, self.nodes.values(), self.args.cluster_cidr)
        return rv

    def run(self) -> None:
        self.me = self.wait_for_pod_cidr()
        log.info("node %s: InternalIP %s, podCIDR %s", self.me.name, self.me.internal_ip, self.me.pod_cidr)
        if not self.args.impl_archive:
            self.start_daemon()
        self.install()
        rv = self.resync()
        Path(self.args.ready_file).write_text("ready\n")
        log.info("ready: plugin %s, %d nodes", self.plugin, len(self.nodes))
        while True:
            try:
                for kind, obj in self.api.watch_nodes(rv, self.args.resync):
                    if kind == "ERROR":
                        break
                    info = node_info(obj)
                    rv = obj["metadata"].get("resourceVersion", rv)
                    if kind == "DELETED":
                        self.nodes.pop(info.name, None)
                        log.info("node %s left", info.name)
                    elif self.nodes.get(info.name) != info:
                        log.info("node %s: InternalIP %s, podCIDR %s", info.name, info.internal_ip, info.pod_cidr)
                        self.nodes[info.name] = info
                    else:
                        continue
                    node.sync_routes(self.node_name, self.nodes.values(), self.args.cluster_cidr)
                self.install()
                rv = self.resync()
            except Exception as exc:
                log.warning("watch or resync failed: %s; retrying", exc)
                time.sleep(2)
                with contextlib.suppress(Exception):
                    rv = self.resync()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kubelab-cni-agent", description=__doc__)
    parser.add_argument("--node-name", default=os.environ.get("NODE_NAME"), help="this node (default: $NODE_NAME)")
    parser.add_argument("--cluster-cidr", required=True, help="the cluster's pod network, e.g. 10.244.0.0/16")
    parser.add_argument("--host-root", default="/host", help="where the node's directories are mounted")
    parser.add_argument("--impl-archive", help="a student's plugin (tar.gz: bin/<file> or pkg/<package>/)")
    parser.add_argument("--resync", type=int, default=60, help="full resync period in seconds")
    parser.add_argument("--ready-file", default="/tmp/kubelab-cni-agent.ready")
    args = parser.parse_args(argv)
    if not args.node_name:
        parser.error("--node-name or $NODE_NAME is required")
    if args.impl_archive and not Path(args.impl_archive).is_file():
        args.impl_archive = None  # the optional ConfigMap is absent: the reference plugin
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    # The daemon and the node's fallback processes share the node's run dir (locks, socket).
    run_dir = args.host_root.rstrip("/") + "/run/kubelab-cni"
    os.environ.setdefault("KUBELAB_CNI_RUN_DIR", run_dir)
    os.environ.setdefault("KUBELAB_CNI_SOCKET", run_dir + "/daemon.sock")
    agent = Agent(args)

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        agent.run()
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        agent.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
