"""``kubelab-labs``: the lab registry's generated files and listings.

- ``kubelab-labs list``: every lab, its status, checkpoints and what ``--impl`` takes.
- ``kubelab-labs table [--check]``: the lab table in README.md and docs/index.md.
- ``kubelab-labs starters [--check]``: starters generated from the reference's solution markers.

``--check`` writes nothing and exits 1 when a file differs (``nox -s lint`` runs both).
"""

from __future__ import annotations

import argparse
import sys

from kubelab_kit.entry import entry_point
from kubelab_kit.errors import KubelabError
from kubelab_labkit import starters, tables
from kubelab_labkit.registry import checkpoint_counts, load_labs


class StaleError(KubelabError):
    area = "labs"


def cmd_list(_: argparse.Namespace) -> int:
    labs = load_labs()
    counts = checkpoint_counts(labs)
    for lab in labs:
        impl = lab.impl.kind.value if lab.impl else "no --impl"
        print(f"{lab.session:16} ch.{lab.chapter}  {lab.status.value:12} {counts[lab.name]:3} checkpoints  {impl}")
    return 0


def cmd_table(args: argparse.Namespace) -> int:
    stale = tables.stale_pages(write=not args.check)
    if stale and args.check:
        raise StaleError(
            f"the lab table differs from labs/*/lab.toml in {', '.join(str(p) for p in stale)}",
            fix="uv run kubelab-labs table   (then commit the pages)",
        )
    print(f"lab table: {len(tables.PAGES)} pages, " + (f"{len(stale)} rewritten" if stale else "up to date"))
    return 0


def cmd_starters(args: argparse.Namespace) -> int:
    try:
        done, stale = starters.generate_all(write=not args.check)
    except starters.MarkerError as exc:
        raise StaleError(str(exc), fix="fix the solution markers (see labs/labkit/README.md)") from exc
    if stale and args.check:
        raise StaleError(
            f"committed starters differ from the reference's solution markers: {', '.join(str(p) for p in stale)}",
            fix="uv run kubelab-labs starters   (edit the reference, never the starter; then commit both)",
        )
    regions = sum(len(g.exercises) for g in done)
    state = f"{len(stale)} rewritten" if stale else "up to date"
    print(f"starters: {len(done)} files, {regions} exercises, {state}")
    return 0


@entry_point
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kubelab-labs", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="every lab: status, checkpoints, --impl").set_defaults(func=cmd_list)
    for name, func, what in (("table", cmd_table, "the lab table pages"), ("starters", cmd_starters, "the starters")):
        p = sub.add_parser(name, help=f"regenerate {what} (--check: fail if they differ)")
        p.add_argument("--check", action="store_true")
        p.set_defaults(func=func)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
