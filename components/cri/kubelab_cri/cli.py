"""``kubelab-cri``: the Chapter 4 runtime's command line.

``kubelab-cri serve`` serves the CRI on a unix socket (``--listen``, default
``/run/kubelab-cri/kubelab-cri.sock``) until SIGTERM, both services on the one socket:

* RuntimeService: the answers the kubelet asks for first (Version, Status, RuntimeConfig)
  with the node's ``--cgroup-driver`` (systemd, as kind's kubelet) and ``--cni-conf-dir``;
* sandboxes: a network namespace per pod, wired by the node's CNI network (the first
  configuration in ``--cni-conf-dir``, plugins from ``--cni-bin-dir``, default ``/opt/cni/bin``);
* containers: run by runc (``--runc``, default the one on PATH; its state under ``--runc-root``)
  from OCI bundles under ``--root``, each watched by a monitor process of its own that writes
  the CRI log file and the exit status, so containers outlive a restart of the runtime;
* streaming: Exec, Attach and PortForward answer with URLs of a SPDY/3.1 server of the runtime's
  own on 127.0.0.1 (``--streaming-port``), which the kubelet proxies ``kubectl exec``,
  ``attach`` and ``port-forward`` to;
* ImageService: pulls into the store under ``--root`` (default ``/var/lib/kubelab-cri``);
  ``--registry-mirror HOST=URL`` (repeatable) sends pulls of HOST's images to URL, as
  containerd's ``hosts.toml`` does (the cluster's: ``localhost:5001=http://kubelab-registry:5000``).
"""

from __future__ import annotations

import argparse
import logging
import shutil
from pathlib import Path

from kubelab_kit.entry import entry_point
from kubelab_kit.logs import setup_logging

log = logging.getLogger("kubelab_cri")
DEFAULT_SOCKET = "/run/kubelab-cri/kubelab-cri.sock"


def mirror(text: str) -> tuple[str, str]:
    host, sep, url = text.partition("=")
    if not sep or not host or not url.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"{text!r}: expected HOST=http(s)://ENDPOINT")
    return host, url


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kubelab-cri", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the CRI on a unix socket")
    serve.add_argument("--listen", default=DEFAULT_SOCKET, help="the unix socket path")
    serve.add_argument("--cgroup-driver", default="systemd", choices=["systemd", "cgroupfs"])
    serve.add_argument("--cni-conf-dir", type=Path, default=Path("/etc/cni/net.d"))
    serve.add_argument("--cni-bin-dir", action="append", default=None, help="CNI plugin directories (repeatable)")
    serve.add_argument("--root", type=Path, default=Path("/var/lib/kubelab-cri"), help="the image store")
    serve.add_argument("--runc", default="runc", help="the runc binary")
    serve.add_argument("--runc-root", type=Path, default=Path("/run/kubelab-cri/runc"), help="runc's state directory")
    serve.add_argument(
        "--streaming-port", type=int, default=0, help="the streaming server's port on 127.0.0.1 (0: any)"
    )
    serve.add_argument("--registry-mirror", action="append", default=[], type=mirror, metavar="HOST=URL")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    return p


def serve(args: argparse.Namespace) -> int:
    from kubelab_cri.images.registry import RegistryClient
    from kubelab_cri.images.service import ImageService
    from kubelab_cri.images.store import ImageStore
    from kubelab_cri.runtime.containers import Containers
    from kubelab_cri.runtime.info import RuntimeInfo
    from kubelab_cri.runtime.runc import Runc
    from kubelab_cri.runtime.sandboxes import Sandboxes
    from kubelab_cri.runtime.service import RuntimeService
    from kubelab_cri.streaming.operations import streaming_server
    from kubelab_kit.cni.conflist import load_network
    from kubelab_kit.grpc import Server
    from kubelab_protos.gen.cri.v1 import api_pb2_grpc

    setup_logging(level_name=args.log_level)
    info = RuntimeInfo(cgroup_driver=args.cgroup_driver, cni_conf_dir=args.cni_conf_dir)
    store = ImageStore(args.root, RegistryClient(mirrors=dict(args.registry_mirror)))
    bin_dirs = args.cni_bin_dir or ["/opt/cni/bin"]
    sandboxes = Sandboxes(args.root, lambda: load_network(args.cni_conf_dir, bin_dirs))
    runc = Runc(shutil.which(args.runc) or args.runc, args.runc_root, systemd_cgroup=args.cgroup_driver == "systemd")
    containers = Containers(args.root, store, sandboxes, runc, cgroup_driver=args.cgroup_driver)
    streaming = streaming_server(containers, sandboxes, port=args.streaming_port).start()
    services = [
        (api_pb2_grpc.add_RuntimeServiceServicer_to_server, RuntimeService(info, sandboxes, containers, streaming)),
        (api_pb2_grpc.add_ImageServiceServicer_to_server, ImageService(store, in_use=containers.images_in_use)),
    ]
    with Server(args.listen, services) as server:
        log.info("kubelab-cri serving the CRI on %s", args.listen)
        server.run_until_signalled()
    streaming.stop()
    return 0


@entry_point
def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return serve(args)
