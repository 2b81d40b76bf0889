"""``kubelab-deviceplugin``: the Chapter 9 device plugin's command line.

``kubelab-deviceplugin serve`` offers the node's simulated accelerators to the kubelet until
SIGTERM: it writes a first devices file when there is none (``--seed-count`` devices, in link
groups of ``--link-size``), serves on ``<--plugins-dir>/<socket>`` and registers with the
kubelet, again after every kubelet restart.

``kubelab-deviceplugin devices show|seed|health`` reads and edits the devices file (``health
accel-1 unhealthy`` is how a device fails; the plugin tells the kubelet within a second).

``kubelab-deviceplugin call allocate ID...`` and ``call preferred`` call the plugin's socket as
the kubelet would and print its answer as JSON, or the gRPC status it refused with (exit 1).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kubelab_deviceplugin import RESOURCE
from kubelab_deviceplugin.inventory import DEFAULT_FILE
from kubelab_kit.entry import entry_point
from kubelab_kit.logs import setup_logging


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kubelab-deviceplugin", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="offer the node's devices to the kubelet")
    serve.add_argument("--resource", default=RESOURCE, help="the extended resource name")
    serve.add_argument("--devices-file", type=Path, default=DEFAULT_FILE)
    serve.add_argument("--seed-count", type=int, default=4, help="devices in a first file (when there is none)")
    serve.add_argument("--link-size", type=int, default=2, help="devices per link group in a first file")
    serve.add_argument("--state-dir", type=Path, default=Path("/var/lib/kubelab-devices/state"))
    serve.add_argument("--cdi-dir", type=Path, default=Path("/var/run/cdi"))
    serve.add_argument("--plugins-dir", type=Path, default=Path("/var/lib/kubelet/device-plugins"))
    serve.add_argument("--socket-name", default="", help="default: the resource name with / as -, .sock")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])

    devices = sub.add_parser("devices", help="read or edit the devices file")
    devices.add_argument("--file", type=Path, default=DEFAULT_FILE)
    dsub = devices.add_subparsers(dest="action", required=True)
    dsub.add_parser("show", help="print the devices")
    seed = dsub.add_parser("seed", help="write a first file (not over an existing one)")
    seed.add_argument("--count", type=int, default=4)
    seed.add_argument("--link-size", type=int, default=2)
    health = dsub.add_parser("health", help="mark a device healthy or unhealthy")
    health.add_argument("device")
    health.add_argument("state", choices=["healthy", "unhealthy"])

    call = sub.add_parser("call", help="call the plugin's socket as the kubelet does")
    call.add_argument(
        "--socket", type=Path, default=Path("/var/lib/kubelet/device-plugins/kubelab.dev-accelerator.sock")
    )
    csub = call.add_subparsers(dest="method", required=True)
    allocate = csub.add_parser("allocate", help="Allocate the devices named")
    allocate.add_argument("devices", nargs="+")
    preferred = csub.add_parser("preferred", help="GetPreferredAllocation")
    preferred.add_argument("--available", nargs="+", required=True)
    preferred.add_argument("--must-include", nargs="*", default=[])
    preferred.add_argument("--size", type=int, required=True)
    return p


def serve(args: argparse.Namespace) -> int:
    from kubelab_deviceplugin.inventory import seed
    from kubelab_deviceplugin.plugin import DevicePlugin, PluginConfig
    from kubelab_kit.signals import run_until_signalled

    setup_logging(level_name=args.log_level)
    seed(args.devices_file, args.seed_count, args.link_size)
    config = PluginConfig(
        resource=args.resource,
        devices_file=args.devices_file,
        state_dir=args.state_dir,
        cdi_dir=args.cdi_dir,
        plugins_dir=args.plugins_dir,
        socket_name=args.socket_name,
    )
    run_until_signalled(DevicePlugin(config).run)
    return 0


def devices(args: argparse.Namespace) -> int:
    from kubelab_deviceplugin.inventory import read, render, seed, set_health

    if args.action == "seed":
        written = seed(args.file, args.count, args.link_size)
        print(f"{args.file}: {'written' if written else 'exists, left as it is'}")
        return 0
    if args.action == "health":
        set_health(args.file, args.device, args.state == "healthy")
    sys.stdout.write(render(read(args.file)))
    return 0


def call(args: argparse.Namespace) -> int:
    from kubelab_kit.grpc import print_call
    from kubelab_protos.gen.deviceplugin.v1beta1 import api_pb2, api_pb2_grpc

    stub = api_pb2_grpc.DevicePluginStub
    if args.method == "allocate":
        request = api_pb2.AllocateRequest(
            container_requests=[api_pb2.ContainerAllocateRequest(devices_ids=args.devices)]
        )
        return print_call(args.socket, stub, "Allocate", request, timeout=5.0)
    request = api_pb2.PreferredAllocationRequest(
        container_requests=[
            api_pb2.ContainerPreferredAllocationRequest(
                available_deviceIDs=args.available, must_include_deviceIDs=args.must_include, allocation_size=args.size
            )
        ]
    )
    return print_call(args.socket, stub, "GetPreferredAllocation", request, timeout=5.0)


@entry_point
def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    commands = {"serve": serve, "devices": devices, "call": call}
    return commands[args.command](args)
