"""Command-line flags for reaching an API server, shared by the console entry points."""

from __future__ import annotations

import argparse

from kubelab_client.kube import Api


def add_connection_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection (like client-go's BuildConfigFromFlags)")
    group.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    group.add_argument("--context", help="kubeconfig context")
    group.add_argument(
        "--in-cluster", action="store_true", help="use the pod's service account (default when run in a pod)"
    )
    group.add_argument("--server", help="plain URL, no auth: kubectl proxy or the fake API server")


def api_from_flags(args: argparse.Namespace) -> Api:
    if args.server:
        return Api.for_host(args.server)
    return Api.from_config(args.kubeconfig, args.context, True if args.in_cluster else None)
