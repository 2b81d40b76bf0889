"""``kubelab-labs``: the lab registry's generated files and listings.

- ``kubelab-labs list``: every lab, its status, checkpoints and what ``--impl`` takes.
- ``kubelab-labs table [--check]``: the lab table in README.md and docs/index.md.
- ``kubelab-labs starters [--check]``: starters generated from the reference's solution markers.
- ``kubelab-labs report show FILE``: a run's report (``<lab>.json``) as the table the run printed.
- ``kubelab-labs report send FILE --to URL [--token TOKEN]``: post it to a dashboard again.

``--check`` writes nothing and exits 1 when a file differs (``nox -s lint`` runs both).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from kubelab_kit.entry import entry_point
from kubelab_kit.errors import KubelabError
from kubelab_labkit import starters, tables
from kubelab_labkit.registry import checkpoint_counts, load_labs
from kubelab_labkit.reports import post, table
from kubelab_labkit.reports.model import Report


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


def _report(path: str) -> Report:
    try:
        return Report.model_validate_json(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise StaleError(f"{path}: not a lab run's report: {exc}", fix="give the <lab>.json a lab run wrote") from exc


def cmd_report(args: argparse.Namespace) -> int:
    report = _report(args.file)
    if args.action == "show":
        print(table.render(report), end="")
        return 0
    line = post.send(report, args.to, args.token or os.environ.get("KUBELAB_CLASS_TOKEN"))
    print(line)
    return 0 if line.startswith("report sent") else 1


@entry_point
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kubelab-labs", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="every lab: status, checkpoints, --impl").set_defaults(func=cmd_list)
    for name, func, what in (("table", cmd_table, "the lab table pages"), ("starters", cmd_starters, "the starters")):
        p = sub.add_parser(name, help=f"regenerate {what} (--check: fail if they differ)")
        p.add_argument("--check", action="store_true")
        p.set_defaults(func=func)
    p = sub.add_parser("report", help="a lab run's report: show it, or send it to a dashboard")
    p.add_argument("action", choices=["show", "send"])
    p.add_argument("file", help="the report a lab run wrote (<lab>.json)")
    p.add_argument("--to", help="send: the dashboard's URL")
    p.add_argument("--token", help="send: the class token (default $KUBELAB_CLASS_TOKEN)")
    p.set_defaults(func=cmd_report)
    args = parser.parse_args(argv)
    if args.func is cmd_report and args.action == "send" and not args.to:
        parser.error("report send needs --to URL")
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
