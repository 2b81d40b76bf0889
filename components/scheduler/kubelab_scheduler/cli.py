"""``kubelab-scheduler``: the second scheduler's command line, kube-scheduler's where they meet.

``kubelab-scheduler run`` (what the Deployment runs):

* ``--config FILE``: a ``KubeSchedulerConfiguration`` (profiles, plugins, weights, backoff,
  leader election); without it one profile, ``kubelab-scheduler``, with upstream's defaults;
* ``--kubeconfig``: else in-cluster, throttled by the file's ``clientConnection`` (``qps`` 50,
  ``burst`` 100 by default, as kube-scheduler's; events on a second client of their own);
* ``--leader-elect`` overrides the file's ``leaderElection.leaderElect`` (a Lease, client-go's
  rules); ``--healthz-bind-address`` (``:10259``-like, plain HTTP here) serves ``/healthz`` and
  ``/readyz``; ``--log-level``.

``kubelab-scheduler extender [--bind-address :8888]`` serves the extender (filter, prioritize,
bind) that kube-scheduler calls (its configuration's ``extenders``).

``kubelab-scheduler plugins [--config FILE]`` prints each profile's plugins per extension
point, with the score weights: what the file amounts to.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import socket
import threading
from pathlib import Path

from kubelab_kit.entry import entry_point
from kubelab_kit.errors import KubelabError
from kubelab_kit.flags import host_port
from kubelab_kit.logs import setup_logging
from kubelab_kit.signals import stop_on_signals
from kubelab_scheduler import config as configuration

log = logging.getLogger("kubelab_scheduler")


class SchedulerError(KubelabError):
    area = "scheduler"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kubelab-scheduler", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="schedule the pods of the configured profiles")
    run.add_argument("--config", type=Path, default=None)
    run.add_argument("--kubeconfig", default=None)
    run.add_argument("--leader-elect", action=argparse.BooleanOptionalAction, default=None)
    run.add_argument("--healthz-bind-address", type=host_port, default=("0.0.0.0", 10251))
    run.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    ext = sub.add_parser("extender", help="serve the scheduler extender (filter, prioritize, bind) for kube-scheduler")
    ext.add_argument("--bind-address", type=host_port, default=("0.0.0.0", 8888))
    ext.add_argument("--kubeconfig", default=None)
    ext.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    plugins = sub.add_parser("plugins", help="print each profile's plugins per extension point")
    plugins.add_argument("--config", type=Path, default=None)
    return p


def show_plugins(args: argparse.Namespace) -> int:
    from kubelab_scheduler.framework.runtime import Framework, Handle
    from kubelab_scheduler.plugins.registry import in_tree

    config = configuration.load(args.config)
    for profile in config.profiles:
        try:
            fwk = Framework(profile, in_tree(), Handle())
        except (configuration.ConfigError, ValueError) as exc:
            raise SchedulerError(str(exc)) from exc
        print(f"profile {profile.scheduler_name}:")
        for point in configuration.POINTS:
            names = [f"{p.name}({fwk.weights[p.name]})" if point == "score" else p.name for p in fwk.points[point]]
            print(f"  {point:<11} {', '.join(names) or '-'}")
    return 0


def run(args: argparse.Namespace) -> int:
    from kubelab_client.kube import Api
    from kubelab_client.leaderelection import ElectionConfig, LeaderElector, leading
    from kubelab_kit import probes
    from kubelab_scheduler.scheduler import Scheduler

    setup_logging(level_name=args.log_level)
    config = configuration.load(args.config)
    stop = stop_on_signals()
    throttle = config.client_connection
    api = Api.from_config(args.kubeconfig).limited(throttle.qps, throttle.burst)
    events_api = Api.from_config(args.kubeconfig).limited(throttle.qps, throttle.burst)
    try:
        scheduler = Scheduler(api, config, events_api=events_api)
    except (configuration.ConfigError, ValueError) as exc:
        raise SchedulerError(str(exc)) from exc
    leading_now = threading.Event()

    def ready() -> str | None:  # a standby is ready (as kube-scheduler's); a leader once its informers synced
        return "informers not synced yet" if leading_now.is_set() and not scheduler.ready.is_set() else None

    host, port = args.healthz_bind_address
    probes.serve(host, port, healthz=lambda: None, readyz=ready)
    elect = config.leader_election.leader_elect if args.leader_elect is None else args.leader_elect
    identity = f"{socket.gethostname()}_{os.getpid()}"
    lost = None
    with contextlib.ExitStack() as leadership:
        if elect:
            election = config.leader_election
            elector = LeaderElector(api, ElectionConfig(election.resource_namespace, election.resource_name, identity))
            lost = leadership.enter_context(leading(elector, stop))
            if lost is None:
                return 0
        leading_now.set()
        log.info("kubelab-scheduler %s: profiles %s", identity, ", ".join(sorted(scheduler.frameworks)))
        scheduler.run(stop)
    if lost is not None and lost.is_set():
        raise SchedulerError("lost the leader Lease: exiting so that another replica takes over alone")
    return 0


def extender(args: argparse.Namespace) -> int:
    import uvicorn

    from kubelab_client.kube import Api
    from kubelab_scheduler.extender.app import create_app

    setup_logging(level_name=args.log_level)
    host, port = args.bind_address
    uvicorn.run(create_app(Api.from_config(args.kubeconfig)), host=host, port=port, log_level="warning")
    return 0


@entry_point
def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "plugins":
        return show_plugins(args)
    if args.command == "extender":
        return extender(args)
    return run(args)
