"""Command-line value types the daemons share (argparse ``type=``)."""

from __future__ import annotations

import argparse


def host_port(text: str) -> tuple[str, int]:
    """``[HOST]:PORT`` (controller-runtime's ``--metrics-bind-address`` form); an empty host is ``0.0.0.0``."""
    host, _, port = text.rpartition(":")
    try:
        return host or "0.0.0.0", int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not [HOST]:PORT") from None
