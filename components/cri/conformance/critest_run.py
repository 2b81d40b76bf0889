"""critest (cri-tools, from the toolchain) against kubelab-cri on this host, offline: ``nox -s critest``.

1. a local registry (:mod:`kubelab_cluster.images.oci_registry`) with critest's test images
   rebuilt from busybox (:mod:`kubelab_cluster.images.critest_images`);
2. kubelab-cri on a socket of its own (:mod:`critest_node`), its pulls of critest's fixed
   registry hosts mirrored to that registry;
3. critest, with ``-test-images-file`` for the default and web server images, the skips of
   :mod:`critest_skips` and a Ginkgo JSON report;
4. per Describe group: passed / failed / skipped, the skip reasons, the failures (first line),
   the pass rate among the specs that ran. Exits 1 below :data:`PASS_THRESHOLD` percent.

Everything started is stopped (pods and containers removed through the socket first); what was
left behind is reported. Needs root.

    uv run --no-sync python components/cri/conformance/critest_run.py [--focus REGEX] [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from critest_node import Node, Tools, leftovers, our_netns, running_node
from critest_skips import active_skips
from rich.console import Console

from kubelab_cluster.images.critest_images import NOT_BUILT, push_critest_images
from kubelab_cluster.images.oci_registry import running_registry
from kubelab_cluster.pins import pins
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.build import build
from kubelab_labkit.ginkgo import Skip, first_line, load, print_summary, skip_flags

# percent of the specs that ran: measured 100.0 (94 of 94, 48 skipped, 2026-12-02); one flaky spec may fail
PASS_THRESHOLD = 95.0
CRITEST_TIMEOUT = "90m"  # Ginkgo's suite timeout (-ginkgo.timeout)

console = Console(width=200)


def tools() -> Tools:
    """critest, crictl, runc and the CNI plugins, built from the pinned Go modules (cached)."""
    p = pins()
    return Tools(
        critest=build(BY_NAME["critest"], p).binaries["critest"],
        crictl=build(BY_NAME["crictl"], p).binaries["crictl"],
        runc=build(BY_NAME["runc"], p).binaries["runc"],
        cni_bin_dir=build(BY_NAME["cni-plugins"], p).binaries["ptp"].parent,
    )


def critest_command(node: Node, images_file: Path, report: Path, skips: list[Skip], focus: list[str]) -> list[str]:
    return [
        str(node.tools.critest),
        f"-runtime-endpoint={node.endpoint}",
        f"-image-endpoint={node.endpoint}",
        f"-test-images-file={images_file}",
        "-ginkgo.no-color",
        "-ginkgo.v",
        f"-ginkgo.timeout={CRITEST_TIMEOUT}",
        f"-ginkgo.json-report={report}",
        *skip_flags(skips),
        *(f"-ginkgo.focus={f}" for f in focus),
    ]


def run_critest(node: Node, images_file: Path, report: Path, skips: list[Skip], focus: list[str]) -> int:
    cmd = critest_command(node, images_file, report, skips, focus)
    log = node.work / "critest.log"
    console.print(f"critest: {' '.join(cmd)}")
    console.print(f"critest: log {log} (the runtime's: {node.log})")
    started = time.monotonic()
    with log.open("wb") as out:
        # critest looks for /etc/crictl.yaml, then its own directory: run it where neither is
        code = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=node.work, check=False).returncode
    console.print(f"critest: exit {code} after {time.monotonic() - started:.0f} s")
    return code


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--focus", action="append", default=[], help="only specs matching (-ginkgo.focus, repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, report, image store)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if os.geteuid() != 0:
        console.print("[red]critest needs root (runc, network namespaces, mounts)[/red]")
        return 2
    binaries = tools()
    work = Path(tempfile.mkdtemp(prefix="kubelab-critest-"))
    netns_before = our_netns()
    skips = active_skips()
    report = work / "critest-report.json"
    with running_registry(work / "registry") as registry:
        pushed = push_critest_images(registry)
        console.print(f"registry {registry.host}: {len(pushed.refs)} test images pushed")
        images_file = work / "test-images.yaml"
        images_file.write_text(pushed.test_images_yaml)
        with running_node(work, binaries, pushed.mirrors) as node:
            code = run_critest(node, images_file, report, skips, args.focus)
    left = leftovers(node, netns_before)
    for ref, why in NOT_BUILT.items():
        console.print(f"not built: {ref}: {why}")
    if not report.is_file():
        tail = (work / "critest.log").read_text(errors="replace").splitlines()[-30:]
        console.print(f"[red]critest wrote no report[/red] (exit {code}); its log ends:\n" + "\n".join(tail))
        return 2
    summary = load(report)
    print_summary(console, summary, skips, "critest against kubelab-cri, per Describe group")
    for thing in left:
        console.print(f"[red]left behind:[/red] {thing}")
    if args.keep or left:
        console.print(f"work directory kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    if summary.suite_failure:
        console.print(f"[red]critest's suite failed:[/red] {first_line(summary.suite_failure)}")
        return 1
    if summary.pass_percent < PASS_THRESHOLD:
        console.print(f"[red]pass rate {summary.pass_percent:.1f}% is below the threshold {PASS_THRESHOLD}%[/red]")
        return 1
    console.print(f"pass rate {summary.pass_percent:.1f}% >= threshold {PASS_THRESHOLD}% (critest exit {code})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
