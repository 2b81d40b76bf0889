"""``kubelab-client-sample``: run the summary controller until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import logging

from rich.logging import RichHandler

from kubelab_client.config import add_connection_flags, api_from_flags
from kubelab_client.sample_controller.controller import SOURCE_LABEL, SummaryController
from kubelab_kit.entry import entry_point
from kubelab_kit.logs import setup_logging
from kubelab_kit.signals import stop_on_signals


@entry_point
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="kubelab-client-sample",
        description=f"Keep a '<name>-summary' ConfigMap for every ConfigMap labelled {SOURCE_LABEL}=true.",
    )
    add_connection_flags(parser)
    parser.add_argument("-n", "--namespace", help="only this namespace (default: all)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--resync", type=float, default=300.0, help="resync period in seconds (0: none)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    setup_logging(args.verbose, handler=RichHandler(show_path=False))
    stop = stop_on_signals()
    api = api_from_flags(args)
    controller = SummaryController(api, namespace=args.namespace, workers=args.workers, resync_period=args.resync)
    controller.run(stop)
    logging.getLogger(__name__).info("done: %s", dict(controller.stats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
