"""``kubelab-client-listpods``: the first example of chapter 2.2, in and out of the cluster.

Out of the cluster it reads a kubeconfig (``--kubeconfig``, ``$KUBECONFIG``, ~/.kube/config);
in a pod (``$KUBERNETES_SERVICE_HOST`` set, no kubeconfig) it uses the pod's ServiceAccount:
the token and CA mounted at /var/run/secrets/kubernetes.io/serviceaccount, and the
``kubernetes`` Service (client-go's ``rest.InClusterConfig``). Either way it prints who it
is talking to, then one line per pod. Every failure is one line on stderr and exit 1:
a kubeconfig pointing nowhere fails within ``--timeout`` seconds, never stalls.
"""

from __future__ import annotations

import argparse
import os
import sys

from kubelab_client.errors import ApiError
from kubelab_client.kube import Api
from kubelab_client.resources import PODS
from kubelab_kit.entry import entry_point


@entry_point
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kubelab-client-listpods", description="List pods (chapter 2.2).")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)")
    parser.add_argument("--context")
    parser.add_argument("--in-cluster", action="store_true", help="force the pod's service account")
    parser.add_argument("-n", "--namespace", help="only this namespace (default: all)")
    parser.add_argument("--timeout", type=float, default=10.0, help="connect and read timeout in seconds")
    args = parser.parse_args(argv)
    try:
        api = Api.from_config(args.kubeconfig, args.context, True if args.in_cluster else None)
        api.connect_timeout = api.timeout = args.timeout
        in_cluster = args.in_cluster or (
            not args.kubeconfig and not os.environ.get("KUBECONFIG") and "KUBERNETES_SERVICE_HOST" in os.environ
        )
        where = args.kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
        mode = "in-cluster (service account)" if in_cluster else f"kubeconfig {where}"
        version = api.server_version()
        print(f"server {api.host} (Kubernetes {version.get('gitVersion')}), config: {mode}")
        pods = api.request("GET", PODS.collection_path(args.namespace))
    except ApiError as exc:
        print(f"error: {exc.status} {exc.reason}: {exc.message}", file=sys.stderr)
        return 1
    items = pods.get("items") or []
    for pod in items:
        meta, status = pod.get("metadata", {}), pod.get("status", {})
        print(f"{meta.get('namespace')}/{meta.get('name')} {status.get('phase')} {pod['spec'].get('nodeName', '')}")
    print(f"{len(items)} pods")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
