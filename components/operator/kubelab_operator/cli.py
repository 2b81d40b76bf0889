"""``kubelab-operator``: the CronJob operator's command line (book 3.3.5), controller-runtime's flags.

``kubelab-operator run`` (what the Deployment runs):

* ``--metrics-bind-address`` (``:8080``) Prometheus metrics; ``--health-probe-bind-address``
  (``:8081``) ``/healthz`` and ``/readyz``;
* ``--webhook-port`` (9443) and ``--webhook-cert-dir``: the webhooks, over TLS with the
  certificates the operator makes and rotates (``--cert-validity``); ``--no-webhooks`` to run
  the controller alone;
* ``--namespace NS`` (repeatable): watch only these namespaces (default: all);
* ``--leader-elect`` with ``--leader-election-namespace``: one active replica per Lease;
  ``--max-concurrent-reconciles``; ``--log-level``.

``kubelab-operator generate [--check]`` writes (or checks) the CRD generated from the types.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any, cast

from kubelab_kit.entry import entry_point
from kubelab_kit.errors import KubelabError
from kubelab_kit.flags import host_port
from kubelab_kit.logs import setup_logging
from kubelab_kit.signals import stop_on_signals
from kubelab_operator import deployment

log = logging.getLogger("kubelab_operator")


class OperatorError(KubelabError):
    area = "operator"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kubelab-operator", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the operator (controller, webhooks, metrics, probes)")
    run.add_argument("--metrics-bind-address", type=host_port, default=("0.0.0.0", deployment.METRICS_PORT))
    run.add_argument("--health-probe-bind-address", type=host_port, default=("0.0.0.0", deployment.PROBE_PORT))
    run.add_argument("--webhook-port", type=int, default=deployment.WEBHOOK_PORT)
    run.add_argument("--webhook-cert-dir", type=Path, default=Path("/tmp/k8s-webhook-server/serving-certs"))
    run.add_argument("--no-webhooks", dest="webhooks", action="store_false", help="run without the webhook server")
    run.add_argument("--cert-validity", type=float, default=90 * 24, help="hours a serving certificate lasts")
    run.add_argument("--namespace", action="append", default=[], help="watch only this namespace (repeatable)")
    run.add_argument("--operator-namespace", default=os.environ.get("POD_NAMESPACE", deployment.NAMESPACE))
    run.add_argument("--leader-elect", action="store_true", help="one active replica, through a Lease")
    run.add_argument("--leader-election-namespace", default=None, help="default: the operator's namespace")
    run.add_argument("--lease-duration", type=float, default=10.0)
    run.add_argument("--max-concurrent-reconciles", type=int, default=4)
    run.add_argument("--kubeconfig", default=None)
    run.add_argument("--log-level", choices=["debug", "info", "warning", "error"], default="info")
    gen = sub.add_parser("generate", help="write the CRD from the Python types (components/operator/deploy/crd.yaml)")
    gen.add_argument("--check", action="store_true", help="fail if the committed CRD differs")
    gen.add_argument("--output", type=Path, default=None)
    return p


def generate(args: argparse.Namespace) -> int:
    from kubelab_operator.crdgen import output

    path = args.output or output.DEFAULT_PATH
    if args.check:
        output.check(path)
        print(f"{path}: up to date")
    else:
        print(f"{path}: {'written' if output.write(path) else 'unchanged'}")
    return 0


def run(args: argparse.Namespace) -> int:
    import prometheus_client

    from kubelab_client.errors import ClientError
    from kubelab_client.kube import Api
    from kubelab_client.leaderelection import ElectionConfig, LeaderElector, leading
    from kubelab_kit import probes
    from kubelab_operator import metrics
    from kubelab_operator.webhooks.certs import CertManager
    from kubelab_operator.webhooks.server import WebhookServer

    setup_logging(level_name=args.log_level)
    logging.getLogger("kopf").setLevel(max(logging.INFO, getattr(logging, args.log_level.upper())))
    stop = stop_on_signals()
    api = Api.from_config(args.kubeconfig)
    prometheus_client.start_http_server(args.metrics_bind_address[1], args.metrics_bind_address[0])
    identity = f"{socket.gethostname()}_{os.getpid()}"
    server: WebhookServer | None = None
    certs: CertManager | None = None

    if args.webhooks:
        certs = CertManager(
            api,
            args.webhook_cert_dir,
            namespace=args.operator_namespace,
            validity=dt.timedelta(hours=args.cert_validity),
        )
        while not stop.is_set():
            try:
                certs.sync()
                break
            except ClientError as exc:
                log.warning("certificates: %s (retrying)", exc)
                stop.wait(2)
        if stop.is_set():
            return 0
        server = WebhookServer(args.webhook_cert_dir, port=args.webhook_port)
        server.start()

        threading.Thread(
            target=certs.keep, args=(stop, server.reload_certificates), name="certificates", daemon=True
        ).start()

    def ready() -> str | None:
        if server is not None and not server.serving:
            return "webhook server not listening yet"
        return None

    probe_host, probe_port = args.health_probe_bind_address
    # ready: the webhooks can answer; leadership does not count (a standby serves webhooks too)
    probes.serve(probe_host, probe_port, healthz=lambda: None, readyz=ready)
    log.info(
        "kubelab-operator %s: metrics on %s:%d, probes on %s:%d, webhooks %s",
        identity,
        *args.metrics_bind_address,
        *args.health_probe_bind_address,
        f"on :{args.webhook_port}" if args.webhooks else "off",
    )

    lost = threading.Event()  # stays clear without leader election
    with contextlib.ExitStack() as leadership:
        if args.leader_elect:
            config = ElectionConfig(
                args.leader_election_namespace or args.operator_namespace,
                deployment.LEASE,
                identity,
                lease_duration=args.lease_duration,
                renew_deadline=args.lease_duration * 0.8,
                retry_period=min(2.0, args.lease_duration / 5),
            )
            leader_lost = leadership.enter_context(leading(LeaderElector(api, config), stop))
            if leader_lost is None:  # stopped while standing by
                if server is not None:
                    server.stop()
                return 0
            lost = leader_lost
            metrics.LEADER.set(1)
        run_controller(args, api, identity, stop)
    metrics.LEADER.set(0)
    if server is not None:
        server.stop()
    if lost.is_set():
        raise OperatorError("lost the leader Lease: exiting so that the standby replica takes over alone")
    return 0


def run_controller(args: argparse.Namespace, api: Any, identity: str, stop: threading.Event) -> None:
    """The controller and kopf's watches, until ``stop``."""
    import kopf

    from kubelab_operator.controller import records
    from kubelab_operator.controller.engine import Controller
    from kubelab_operator.controller.watches import registry_for

    records.ensure_configmap(api, args.operator_namespace)
    controller = Controller(api, workers=args.max_concurrent_reconciles)
    controller.start()
    registry = registry_for(controller, api, args.operator_namespace)
    started = time.monotonic()
    asyncio.run(
        kopf.operator(
            registry=registry,
            clusterwide=not args.namespace,
            namespaces=list(args.namespace),
            standalone=True,
            # kopf's Identity is a NewType of str; without one kopf asks getpass (no passwd entry for our uid)
            identity=cast(Any, identity),
            stop_flag=stop,
        )
    )
    stop.set()
    log.info("controller stopped after %.0f s", time.monotonic() - started)
    controller.stop()


@entry_point
def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "generate":
        return generate(args)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
