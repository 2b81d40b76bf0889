"""``kubelab-dra``: the Chapter 9 DRA driver's command line.

``kubelab-dra serve --node NODE`` runs the driver on NODE until SIGTERM: it writes a first devices
file when there is none (``--seed-count`` devices cycling through ``--models``, ``--link-size`` to
a link group), publishes NODE's ResourceSlice, serves DRA v1 and registers with the kubelet.

``kubelab-dra devices show|seed`` reads or writes the devices file; ``kubelab-dra checkpoint``
prints the prepared claims.

``kubelab-dra call prepare|unprepare NAMESPACE NAME UID`` calls the driver's socket as the kubelet
would and prints its answer as JSON (a claim's ``error`` included), or the gRPC status it refused
the call with (exit 1).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kubelab_dra import DRIVER
from kubelab_dra.devices import DEFAULT_FILE
from kubelab_kit.entry import entry_point
from kubelab_kit.logs import setup_logging

CHECKPOINT = Path("/var/lib/kubelab-dra/checkpoint.json")
SOCKET = Path(f"/var/lib/kubelet/plugins/{DRIVER}/dra.sock")
MODELS = "lab-small,lab-large"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kubelab-dra", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the driver on this node")
    serve.add_argument("--node", required=True, help="this node's name (its pool and ResourceSlice)")
    serve.add_argument("--devices-file", type=Path, default=DEFAULT_FILE)
    serve.add_argument("--seed-count", type=int, default=4, help="devices in a first file (when there is none)")
    serve.add_argument("--models", default=MODELS, help="comma-separated models the seeded devices cycle through")
    serve.add_argument("--link-size", type=int, default=2, help="devices per link group in a first file")
    serve.add_argument("--checkpoint", type=Path, default=CHECKPOINT)
    serve.add_argument("--cdi-dir", type=Path, default=Path("/var/run/cdi"))
    serve.add_argument("--plugins-dir", type=Path, default=Path("/var/lib/kubelet/plugins"))
    serve.add_argument("--registry-dir", type=Path, default=Path("/var/lib/kubelet/plugins_registry"))
    serve.add_argument("--kubeconfig", default=None, help="default: in-cluster (the pod's service account)")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])

    devices = sub.add_parser("devices", help="read or write the devices file")
    devices.add_argument("--file", type=Path, default=DEFAULT_FILE)
    dsub = devices.add_subparsers(dest="action", required=True)
    dsub.add_parser("show", help="print the devices")
    seed = dsub.add_parser("seed", help="write a first file (not over an existing one)")
    seed.add_argument("--count", type=int, default=4)
    seed.add_argument("--models", default=MODELS)
    seed.add_argument("--link-size", type=int, default=2)

    checkpoint = sub.add_parser("checkpoint", help="print the prepared claims")
    checkpoint.add_argument("--file", type=Path, default=CHECKPOINT)

    call = sub.add_parser("call", help="call the driver's socket as the kubelet does")
    call.add_argument("--socket", type=Path, default=SOCKET)
    call.add_argument("method", choices=["prepare", "unprepare"])
    call.add_argument("namespace")
    call.add_argument("name")
    call.add_argument("uid")
    return p


def serve(args: argparse.Namespace) -> int:
    from kubelab_client.kube import Api
    from kubelab_dra.devices import seed
    from kubelab_dra.driver import Driver, DriverConfig
    from kubelab_kit.signals import run_until_signalled

    setup_logging(level_name=args.log_level)
    seed(args.devices_file, args.seed_count, [m for m in args.models.split(",") if m], args.link_size)
    config = DriverConfig(
        node=args.node,
        devices_file=args.devices_file,
        checkpoint_file=args.checkpoint,
        cdi_dir=args.cdi_dir,
        plugins_dir=args.plugins_dir,
        registry_dir=args.registry_dir,
    )
    run_until_signalled(Driver(config, Api.from_config(args.kubeconfig)).run)
    return 0


def devices(args: argparse.Namespace) -> int:
    from kubelab_dra.devices import read, seed

    if args.action == "seed":
        written = seed(args.file, args.count, [m for m in args.models.split(",") if m], args.link_size)
        print(f"{args.file}: {'written' if written else 'exists, left as it is'}")
        return 0
    for d in read(args.file):
        print(f"{d.name}\tmodel={d.model}\tlink={d.link}\tmemory={d.memory}")
    return 0


def checkpoint(args: argparse.Namespace) -> int:
    try:
        sys.stdout.write(args.file.read_text())
    except FileNotFoundError:
        print(json.dumps({"claims": {}}))
    return 0


def call(args: argparse.Namespace) -> int:
    from kubelab_kit.grpc import print_call
    from kubelab_protos.gen.dra.v1 import api_pb2, api_pb2_grpc

    claims = [api_pb2.Claim(namespace=args.namespace, name=args.name, uid=args.uid)]
    if args.method == "prepare":
        request = api_pb2.NodePrepareResourcesRequest(claims=claims)
        return print_call(args.socket, api_pb2_grpc.DRAPluginStub, "NodePrepareResources", request)
    request = api_pb2.NodeUnprepareResourcesRequest(claims=claims)
    return print_call(args.socket, api_pb2_grpc.DRAPluginStub, "NodeUnprepareResources", request)


@entry_point
def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    commands = {"serve": serve, "devices": devices, "checkpoint": checkpoint, "call": call}
    return commands[args.command](args)
