"""``kubelab-host``: can this machine run the kind cluster? (``check``), make it so (``setup``),
prove privileged containers work (``probe``)."""

from __future__ import annotations

import argparse
import sys
import time

from rich.table import Table

from kubelab_cluster.host import detect, packages, probe
from kubelab_cluster.host.findings import Finding, Status, evaluate, usable
from kubelab_cluster.host.provision import install_packages, run_setup
from kubelab_cluster.progress import console, step
from kubelab_kit.entry import entry_point

_STYLE = {Status.OK: "green", Status.INFO: "cyan", Status.WARN: "yellow", Status.FAIL: "bold red"}


def print_findings(findings: list[Finding]) -> None:
    table = Table(title="kubelab host", show_lines=False)
    for col in ("check", "status", "finding", "fix"):
        table.add_column(col, overflow="fold")
    for f in findings:
        style = _STYLE[f.status]
        table.add_row(f.check, f"[{style}]{f.status.value}[/{style}]", f.detail, f.fix)
    console.print(table)


def cmd_check(_: argparse.Namespace) -> int:
    findings = evaluate(detect.gather())
    print_findings(findings)
    if usable(findings):
        console.print("[green]host usable[/green]")
        return 0
    console.print("[bold red]host not usable yet[/bold red]: apply the fixes above")
    return 1


def cmd_setup(args: argparse.Namespace) -> int:
    started = time.monotonic()
    report = run_setup(timeout=args.timeout)
    assert report.facts is not None
    findings = evaluate(report.facts)
    print_findings(findings)
    what = "; ".join(report.changes) if report.changes else "nothing changed (already set up)"
    console.print(f"setup: {what} — {time.monotonic() - started:.1f} s in all")
    return 0 if usable(findings) else 1


def cmd_packages(_: argparse.Namespace) -> int:
    """Only the Debian packages (what ``nox -s toolchain`` needs before building)."""
    started = time.monotonic()
    changes = install_packages(detect.gather())
    needed = packages.required()
    what = "; ".join(changes) if changes else f"all {len(needed)} present ({', '.join(needed)})"
    console.print(f"packages: {what} — {time.monotonic() - started:.1f} s")
    return 0


def cmd_probe(_: argparse.Namespace) -> int:
    with step(f"probe image {probe.PROBE_IMAGE}") as s:
        s.note = "imported from the host's busybox" if probe.ensure_image() else "already there"
    results = probe.run_probe()
    table = Table(title="privileged containers")
    for col in ("check", "result", "seconds", "output"):
        table.add_column(col, overflow="fold")
    for r in results:
        table.add_row(
            r.check, "[green]ok[/green]" if r.ok else "[bold red]FAIL[/bold red]", f"{r.seconds:.2f}", r.detail
        )
    console.print(table)
    return 0 if results and all(r.ok for r in results) else 1


@entry_point
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kubelab-host", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("check", help="report what this host lacks and how to fix it (exit 1 if not usable)").set_defaults(
        func=cmd_check
    )
    s = sub.add_parser("setup", help="install/start the docker engine and, where needed, the capfix runtime")
    s.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for dockerd to answer")
    s.set_defaults(func=cmd_setup)
    sub.add_parser(
        "packages", help="install only the Debian packages the builds and images run (root on Debian/Ubuntu)"
    ).set_defaults(func=cmd_packages)
    sub.add_parser("probe", help="run and exec into a privileged container (image built from busybox)").set_defaults(
        func=cmd_probe
    )
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
