"""``kubelab-images``: build the node image, the control-plane images and the lab image."""

from __future__ import annotations

import argparse
import sys
import time

from kubelab_cluster.images.control_plane import build_control_plane
from kubelab_cluster.images.lab import build_lab_image
from kubelab_cluster.images.node import build_node_image
from kubelab_cluster.pins import pins
from kubelab_cluster.progress import console
from kubelab_kit.entry import entry_point


@entry_point
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kubelab-images", description=__doc__)
    parser.add_argument("what", choices=("node", "control-plane", "lab"), help="which image(s) to build")
    args = parser.parse_args(argv)
    started = time.monotonic()
    if args.what == "control-plane":
        for component, ref in build_control_plane(pins()).items():
            print(f"{component}\t{ref}")
    elif args.what == "lab":
        print(build_lab_image())
    else:
        print(build_node_image(pins()))
    console.print(f"images: {args.what} ready in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
