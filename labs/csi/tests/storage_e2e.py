"""Kubernetes' own external storage tests (``e2e.test``, built by the toolchain from the pinned
module) against the deployed driver, described by components/csi/conformance/testdriver.yaml.

The suite's images come from the cluster's registry (``KUBE_TEST_REPO_LIST``,
:mod:`kubelab_cluster.images.e2e_images`). The checkpoint runs :data:`FOCUSED`, one spec of each
pattern the chapter names; ``nox -s csi-e2e`` runs every spec of the driver that is neither
disruptive nor serial (``KUBELAB_CSI_E2E=full``). Both print the Ginkgo report per group.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

from rich.console import Console

from kubelab_cluster.images.e2e_images import build_e2e_images, repo_list
from kubelab_cluster.kind.registry import PREFIX
from kubelab_cluster.pins import pins, repo_root
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.build import build
from kubelab_labkit import images
from kubelab_labkit.ginkgo import Skip, Summary, load, print_summary

TEST_DRIVER = repo_root() / "components" / "csi" / "conformance" / "testdriver.yaml"
DRIVER_SPECS = r"External.Storage \[Driver: csi.kubelab.dev\]"
# One spec per pattern the chapter names: provisioning (clone, restore), expansion (online, offline),
# snapshots, capacity, raw block, inline ephemeral volumes.
FOCUSED = [
    r"Dynamic PV \(default fs\)\] provisioning should provision storage with pvc data source$",
    r"Dynamic PV \(default fs\)\] provisioning should provision storage with snapshot data source \[",
    r"\(default fs\)\(allowExpansion\)\] volume-expand should resize volume when PVC is edited while pod is using it",
    r"\(default fs\)\(allowExpansion\)\] volume-expand Verify if offline PVC expansion works",
    r"Dynamic Snapshot \(delete policy\)\] snapshottable.*after modifying source data, check deletion \(persistent\)",
    r"Dynamic PV \(default fs\)\] capacity provides storage capacity information",
    r"Dynamic PV \(block volmode\)\] volumeMode should not mount / map unused volumes in a pod",
    r"CSI Ephemeral-volume \(default fs\)\] ephemeral should create read/write inline ephemeral volume",
]
SKIPS = [
    Skip(r"\[Disruptive\]", "restarts the kubelet or nodes of the shared cluster"),
    Skip(
        r"\[Serial\]", "must have the cluster to itself (upstream runs them apart); not run on the lab's shared cluster"
    ),
    Skip(
        r"provisioning should provision correct filesystem size when restoring snapshot to larger size pvc",
        "its restore pod has no node selection (provisioning.go: CreatePod with no selector) and a node-local"
        " snapshot restores on its own node only; the scheduler cannot know where a snapshot is, so it places the"
        " pod on either worker (the other one fails); a restore into a larger volume is checked by the driver's own"
        " tests (components/csi/tests/test_csi_snapshots.py)",
    ),
]
TIMEOUT = "120m"

console = Console(width=200)


def full_run() -> bool:
    return os.environ.get("KUBELAB_CSI_E2E", "") == "full"


def chosen_focus() -> str:
    """``$KUBELAB_CSI_E2E_FOCUS``: a regular expression over the spec names (e.g. to run again one that failed)."""
    return os.environ.get("KUBELAB_CSI_E2E_FOCUS", "")


def focus_of(full: bool) -> str:
    """The specs to run: every one of the driver, the focused set, or those :func:`chosen_focus` matches."""
    chosen = chosen_focus()
    if chosen:
        return f"{DRIVER_SPECS}.*({chosen})"
    return DRIVER_SPECS if full else f"{DRIVER_SPECS}.*({'|'.join(FOCUSED)})"


def deliver_images(node_containers: list[str]) -> None:
    for ref in build_e2e_images(pins()).values():
        images.deliver(ref, node_containers)


def run(kubeconfig: Path, node_containers: list[str], *, full: bool) -> tuple[Summary, int, float]:
    """Run the suite (focused or full); its summary, exit status and seconds."""
    binary = build(BY_NAME["e2e.test"], pins()).binaries["e2e.test"]
    deliver_images(node_containers)
    focus = focus_of(full)
    with tempfile.TemporaryDirectory(prefix="kubelab-storage-e2e-") as tmp:
        repo = Path(tmp) / "repo-list.yaml"
        repo.write_text(repo_list(PREFIX))
        report = Path(tmp) / "report.json"
        argv = [
            str(binary),
            f"--kubeconfig={kubeconfig}",
            f"--storage.testdriver={TEST_DRIVER}",
            f"--ginkgo.focus={focus}",
            *[f"--ginkgo.skip={s.pattern}" for s in SKIPS],
            f"--ginkgo.json-report={report}",
            f"--ginkgo.timeout={TIMEOUT}",
            f"--report-dir={tmp}",
            "--ginkgo.no-color",
        ]
        console.print(f"$ KUBE_TEST_REPO_LIST={repo} {' '.join(argv)}", soft_wrap=True, highlight=False, markup=False)
        started = time.monotonic()
        log = Path(tempfile.gettempdir()) / "kubelab-storage-e2e.log"
        with log.open("w") as out:
            done = subprocess.run(
                argv, env={**os.environ, "KUBE_TEST_REPO_LIST": str(repo)}, stdout=out, stderr=subprocess.STDOUT,
                check=False, cwd=tmp,
            )  # fmt: skip
        seconds = time.monotonic() - started
        if not report.is_file():
            raise AssertionError(f"e2e.test wrote no report (exit {done.returncode}); its output: {log}")
        summary = load(report, keep=lambda text: re.search(DRIVER_SPECS, text) is not None)
    title = f"Kubernetes' external storage tests against kubelab-csi ({'every applicable spec' if full else 'focused'})"
    print_summary(console, summary, SKIPS, title)
    console.print(f"e2e.test: exit {done.returncode} after {seconds:.0f} s (output: {log})")
    return summary, done.returncode, seconds
