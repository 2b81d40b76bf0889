"""``kubelab-csi``: the Chapter 6 storage driver's command line.

``kubelab-csi serve`` serves the CSI Identity, Controller and Node services on one unix socket
(``--endpoint``, default ``/csi/csi.sock``, the sidecars' convention) until SIGTERM, for the node
``--node-id``. Volumes are btrfs subvolumes of the pool at ``--pool`` (default
``/var/lib/kubelab-csi/pool``): an existing btrfs mount, or, with ``--pool-image FILE``, a sparse
image of ``--pool-size`` the driver formats once and mounts through a loop device.

``--no-controller-expansion`` leaves ControllerExpandVolume out (the cluster's per-node
deployment: expansion happens in NodeExpandVolume on the volume's node).
``--register-with-kubelet`` announces the driver to the kubelet itself (kubelet plugin
registration: the registration socket in ``/var/lib/kubelet/plugins_registry``, answering the
kubelet's GetInfo with ``--kubelet-endpoint``, the driver's socket as the node sees it). It does
what the node-driver-registrar sidecar does, which the module proxy here does not serve.

``kubelab-csi probe`` calls Identity.Probe on ``--endpoint`` and exits 0 only when the driver
answers ready within ``--timeout`` seconds: the container's liveness probe (what the
livenessprobe sidecar would serve over HTTP).

``kubelab-csi claim-contents --node-id NODE`` labels the pre-provisioned VolumeSnapshotContents
whose snapshot is on NODE so that NODE's csi-snapshotter takes them (:mod:`kubelab_csi.snapshot_contents`),
until SIGTERM; it runs beside the driver in its pod, with the pod's service account.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from kubelab_kit.entry import entry_point
from kubelab_kit.logs import setup_logging

log = logging.getLogger("kubelab_csi")
DEFAULT_ENDPOINT = "/csi/csi.sock"
UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def size(text: str) -> int:
    """``4G``, ``512M``, ``1073741824`` (binary units, optional ``i``/``iB``)."""
    number = text.removesuffix("B").removesuffix("i")
    unit = number[-1:] if number[-1:].isalpha() else ""
    digits = number[: len(number) - len(unit)]
    if not digits.isdigit() or unit.upper() not in UNITS:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a size such as 4G or 512Mi")
    return int(digits) * UNITS[unit.upper()]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kubelab-csi", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the CSI on a unix socket")
    serve.add_argument("--endpoint", default=DEFAULT_ENDPOINT, help="unix socket path or unix:// URL")
    serve.add_argument("--node-id", required=True, help="this node's name (NodeGetInfo, the topology segment)")
    serve.add_argument("--pool", type=Path, default=Path("/var/lib/kubelab-csi/pool"), help="the btrfs pool's mount")
    serve.add_argument("--pool-image", type=Path, default=None, help="a file holding the pool (made if absent)")
    serve.add_argument("--pool-size", type=size, default=0, help="the image's size when it is made (e.g. 4G)")
    serve.add_argument("--no-controller-expansion", action="store_true", help="expand on the node only")
    serve.add_argument("--register-with-kubelet", action="store_true", help="kubelet plugin registration")
    serve.add_argument("--kubelet-endpoint", default="", help="the socket path as the kubelet sees it")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    probe = sub.add_parser("probe", help="exit 0 when the driver on --endpoint is ready")
    probe.add_argument("--endpoint", default=DEFAULT_ENDPOINT)
    probe.add_argument("--timeout", type=float, default=5.0)
    claim = sub.add_parser("claim-contents", help="label this node's pre-provisioned VolumeSnapshotContents")
    claim.add_argument("--node-id", required=True, help="this node's name (the suffix of its snapshot handles)")
    claim.add_argument("--kubeconfig", default=None, help="default: in-cluster (the pod's service account)")
    claim.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    return p


def probe(args: argparse.Namespace) -> int:
    import grpc

    from kubelab_kit.grpc import connect
    from kubelab_protos.gen.csi.v1 import csi_pb2, csi_pb2_grpc

    with connect(args.endpoint, timeout=args.timeout) as channel:
        try:
            identity = csi_pb2_grpc.IdentityStub(channel)  # type: ignore[no-untyped-call,unused-ignore]
            answer = identity.Probe(csi_pb2.ProbeRequest(), timeout=args.timeout)
        except grpc.RpcError as exc:
            print(f"probe: {exc.code().name}: {exc.details()}")
            return 1
    ready = not answer.HasField("ready") or answer.ready.value
    print("probe: ready" if ready else "probe: not ready (the pool is not usable)")
    return 0 if ready else 1


def serve(args: argparse.Namespace) -> int:
    from kubelab_csi.config import DriverConfig
    from kubelab_csi.driver import server
    from kubelab_csi.storage.pool import Pool
    from kubelab_kit.grpc import CSI_PLUGIN, PluginRegistrar

    setup_logging(level_name=args.log_level)
    config = DriverConfig(node_id=args.node_id, controller_expansion=not args.no_controller_expansion)
    pool = Pool(args.pool, args.pool_image, args.pool_size).open()
    space = pool.space()
    log.info(
        "pool %s: %d bytes, %d promised to volumes, %d available",
        pool.root,
        space.size,
        space.reserved,
        space.available,
    )
    with server(args.endpoint, config, pool) as srv:
        if args.register_with_kubelet:
            registrar = PluginRegistrar(
                type=CSI_PLUGIN, name=config.name, endpoint=args.kubelet_endpoint or srv.path, versions=["1.0.0"]
            )
            with registrar:
                srv.run_until_signalled()
        else:
            srv.run_until_signalled()
    return 0


def claim_contents(args: argparse.Namespace) -> int:
    from kubelab_client.kube import Api
    from kubelab_csi.config import DRIVER_NAME
    from kubelab_csi.snapshot_contents import ContentClaimer
    from kubelab_kit.signals import run_until_signalled

    setup_logging(level_name=args.log_level)
    claimer = ContentClaimer(Api.from_config(args.kubeconfig), DRIVER_NAME, args.node_id)
    log.info("labelling the pre-provisioned snapshot contents of %s on %s", DRIVER_NAME, args.node_id)
    run_until_signalled(claimer.run)
    return 0


@entry_point
def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    commands = {"probe": probe, "serve": serve, "claim-contents": claim_contents}
    return commands[args.command](args)
