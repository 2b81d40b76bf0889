"""csi-sanity (csi-test, from the toolchain) against kubelab-csi on this host: ``nox -s csi-sanity``.

For each access type csi-sanity tests volumes with (``mount``, then ``block``):

1. the driver on a scratch pool (:func:`kubelab_csi.testing.running_driver`: a sparse btrfs image
   in a temporary folder, mounted through a loop device; torn down after, whatever was left);
2. csi-sanity with a 64 MiB test volume (expanded to 128 MiB), target and staging folders beside
   the pool, the skips of :mod:`csi_sanity_skips` and a Ginkgo JSON report;
3. per Describe group: passed / failed / skipped, the skip reasons, the failures (first line);
4. what was left behind: volumes or snapshots still in the pool, mounts or loop devices.

Exits 1 when a spec failed, the suite failed, or anything leaked. Needs root.

    uv run --no-sync python components/csi/conformance/csi_sanity_run.py [--focus REGEX] [--access-type mount]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from csi_sanity_skips import active_skips
from rich.console import Console

from kubelab_cluster.pins import pins
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.build import build
from kubelab_csi.testing import leftovers, running_driver
from kubelab_labkit.ginkgo import first_line, load, print_summary, skip_flags

MiB = 1 << 20
TEST_VOLUME = 64 * MiB
EXPANDED = 128 * MiB
TIMEOUT = "30m"

console = Console(width=200)


def sanity(binary: Path, folder: Path, access_type: str, focus: str) -> tuple[bool, list[str]]:
    """One csi-sanity run; whether it passed, and what it left behind."""
    report = folder / "report.json"
    with running_driver(folder, size=8 << 30) as driver:
        argv = [
            str(binary),
            f"--csi.endpoint={driver.endpoint}",
            f"--csi.mountdir={folder / 'target'}",
            f"--csi.stagingdir={folder / 'staging'}",
            f"--csi.testvolumesize={TEST_VOLUME}",
            f"--csi.testvolumeexpandsize={EXPANDED}",
            f"--csi.testvolumeaccesstype={access_type}",
            f"--ginkgo.json-report={report}",
            f"--ginkgo.timeout={TIMEOUT}",
            *skip_flags(active_skips()),
            *([f"--ginkgo.focus={focus}"] if focus else []),
        ]
        console.print(f"$ {' '.join(argv)}", soft_wrap=True, highlight=False, markup=False)
        started = time.monotonic()
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        seconds = time.monotonic() - started
        left = driver.leftovers()  # before the teardown, which would clean them up
    left += leftovers(folder)
    if not report.is_file():
        console.print(done.stdout[-4000:], done.stderr[-4000:], highlight=False)
        console.print(f"[red]csi-sanity wrote no report (exit {done.returncode})[/red]")
        return False, left
    summary = load(report)
    print_summary(console, summary, active_skips(), f"csi-sanity ({access_type} volumes) against kubelab-csi")
    console.print(f"csi-sanity {access_type}: exit {done.returncode} after {seconds:.0f} s")
    if summary.suite_failure:
        console.print(f"[red]suite failed:[/red] {first_line(summary.suite_failure)}")
    return done.returncode == 0 and summary.failed == 0 and not summary.suite_failure, left


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--focus", default="", help="a Ginkgo focus regex (run only matching specs)")
    parser.add_argument("--access-type", choices=["mount", "block"], action="append", default=None)
    args = parser.parse_args()
    binary = build(BY_NAME["csi-sanity"], pins()).binaries["csi-sanity"]
    ok = True
    for access_type in args.access_type or ["mount", "block"]:
        with tempfile.TemporaryDirectory(prefix=f"csi-sanity-{access_type}-") as tmp:
            passed, left = sanity(binary, Path(tmp), access_type, args.focus)
        for item in left:
            console.print(f"[red]left behind:[/red] {item}")
        ok = ok and passed and not left
    console.print("[green]csi-sanity passed[/green]" if ok else "[red]csi-sanity failed[/red]")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
