"""``kubelab-labs``: the lab registry's generated files and listings.

- ``kubelab-labs list``: every lab, its status, checkpoints and what ``--impl`` takes.
- ``kubelab-labs table [--check]``: the lab table in README.md and docs/index.md.
- ``kubelab-labs starters [--check]``: starters generated from the reference's solution markers.
- ``kubelab-labs grade-check [LAB ...]``: each lab's untouched starter fails where its lab.toml says
  (``[impl] starter-fails-at``), no earlier and no later, with that checkpoint's hint.
- ``kubelab-labs report show FILE``: a run's report (``<lab>.json``) as the table the run printed.
- ``kubelab-labs report send FILE --to URL [--token TOKEN]``: post it to a dashboard again.

``--check`` writes nothing and exits 1 when a file differs (``nox -s lint`` runs both).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from kubelab_cluster.cache import cache_root, checkout_key
from kubelab_cluster.pins import repo_root
from kubelab_kit.entry import entry_point
from kubelab_kit.errors import KubelabError
from kubelab_labkit import grading, starters, tables
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


def cmd_grade_check(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    labs = [lab for lab in load_labs() if lab.runnable and lab.impl is not None and lab.impl.starter]
    unknown = set(args.labs) - {lab.name for lab in labs}
    if unknown:
        raise StaleError(f"no lab with a starter named {sorted(unknown)}", fix=f"one of {[lab.name for lab in labs]}")
    chosen = [lab for lab in labs if not args.labs or lab.name in args.labs]
    out = cache_root() / "reports" / checkout_key() / "grade-check"
    out.mkdir(parents=True, exist_ok=True)
    verdicts = [grading.run(lab, repo_root(), out, args.pytest_args) for lab in chosen]
    table = Table(title="grade-check: each lab's untouched starter fails where lab.toml says", title_justify="left")
    for column in ("lab", "must fail at", "verdict", "time", "finding"):
        table.add_column(column, overflow="fold")
    for v in verdicts:
        mark = "[green]ok[/]" if v.ok else "[bold red]FAILED[/]"
        table.add_row(v.lab, v.expected, mark, f"{v.seconds:.0f} s", v.finding)
    Console(width=200).print(table)
    bad = [v.lab for v in verdicts if not v.ok]
    if bad:
        raise StaleError(
            f"the untouched starter of {', '.join(bad)} does not fail where lab.toml says",
            fix="fix the checkpoint that fails too early, or the exercise that passes untouched, or starter-fails-at",
        )
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
    p = sub.add_parser("grade-check", help="each lab's untouched starter fails where its lab.toml says")
    p.add_argument("labs", nargs="*", help="labs to check (default: every lab with a starter)")
    p.add_argument("--pytest-args", nargs=argparse.REMAINDER, default=[], help="more pytest arguments, last")
    p.set_defaults(func=cmd_grade_check)
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
