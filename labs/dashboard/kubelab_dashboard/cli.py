"""``kubelab-dashboard serve``: the instructor dashboard (uvicorn).

Classes come from ``--class NAME=TOKEN`` (repeatable; ``NAME`` alone makes a token) or a
classes file (``--classes FILE``: ``[classes]`` then ``name = "token"`` lines); with neither,
one class ``workshop`` with a new token. The instructor key (``--instructor-key``, else a new
one) opens the page. Accepted reports are kept in ``--data`` (default ``<cache>/dashboard``).
"""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path

import uvicorn

from kubelab_cluster.cache import cache_root
from kubelab_dashboard import classes as classes_mod
from kubelab_dashboard.app import create_app
from kubelab_dashboard.store import Store
from kubelab_kit.entry import entry_point
from kubelab_labkit.registry import load_labs

PORT = 8787


def _address() -> str:
    """This machine's address on the classroom network (what students' runs post to)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            return str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def cmd_serve(args: argparse.Namespace) -> int:
    rooms = [classes_mod.parse_class(spec) for spec in args.classes_given]
    if args.classes:
        rooms += classes_mod.load(Path(args.classes))
    found = classes_mod.classes(rooms, args.instructor_key)
    store = Store(Path(args.data) if args.data else cache_root() / "dashboard")
    app = create_app(found, store, {lab.name: lab.chapter for lab in load_labs()})
    here = args.host if args.host not in ("0.0.0.0", "::") else _address()
    print(f"dashboard: reports kept in {store.directory}")
    for room in found.rooms:
        print(f"class {room.name}: http://127.0.0.1:{args.port}/classes/{room.name}?key={found.instructor_key}")
        print(
            f'  students run: uv run nox -s lab-<name> -- --student "$USER" --report-to http://{here}:{args.port} '
            f"--class-token {room.token}"
        )
    sys.stdout.flush()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=2)
    return 0


@entry_point
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kubelab-dashboard", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("serve", help="serve the dashboard")
    p.add_argument("--host", default="0.0.0.0", help="address to listen on (default: every address)")
    p.add_argument("--port", type=int, default=PORT)
    p.add_argument("--class", dest="classes_given", action="append", default=[], metavar="NAME=TOKEN")
    p.add_argument("--classes", metavar="FILE", help='a classes file ([classes] name = "token")')
    p.add_argument("--instructor-key", default=None, help="the key that opens the page (default: a new one)")
    p.add_argument("--data", default=None, help="where accepted reports are kept (default: <cache>/dashboard)")
    p.set_defaults(func=cmd_serve)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
