"""The Debian packages the builds and images run, checked and installed before the first build.

Each consumer declares what it runs: a toolchain artifact its ``debian_build_deps``
(runc's cgo build), the image modules their ``HOST_PACKAGES`` (debootstrap, the pause
compiler), and ``TEST_TOOLS`` what the components' tests run. :func:`required` collects
them, so the list has one source per fact and ``kubelab-host setup`` installs exactly what a
later step would otherwise stop on.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable

from kubelab_cluster.host.errors import HostError

# Tools the components' own tests and conformance runs call on this host (not a build's needs).
TEST_TOOLS = {
    "btrfs-progs": "the CSI driver's btrfs pools (its tests, csi-sanity)",
    "openssl": "the cluster's Chapter 7 webhook CA (kubelab_cluster.kind.webhook_pki)",
    "chromium": "the browser checks of the docs site and the dashboard (playwright drives the system's chromium)",
    "fonts-wqy-microhei": "Chinese glyphs for the docs site's screenshots",
}

APT_ENV = {"DEBIAN_FRONTEND": "noninteractive", "NEEDRESTART_MODE": "l"}


class AptError(HostError):
    def __init__(self, problem: str, command: list[str], output: str) -> None:
        super().__init__(problem, command=command, output=output, fix="check the host's apt sources and network")


def required() -> dict[str, str]:
    """{package: why} for every Debian package a build or image step runs on this host."""
    from kubelab_cluster.images import busybox, debian, sources
    from kubelab_cluster.toolchain.artifacts import ARTIFACTS

    needs: dict[str, str] = {}
    for artifact in ARTIFACTS:
        for package in artifact.debian_build_deps:
            needs.setdefault(package, f"builds {artifact.name}")
    for module in (busybox, debian, sources):
        for package, why in module.HOST_PACKAGES.items():
            needs.setdefault(package, why)
    for package, why in TEST_TOOLS.items():
        needs.setdefault(package, why)
    return dict(sorted(needs.items()))


def dpkg_available() -> bool:
    return shutil.which("dpkg-query") is not None


def installed(packages: Iterable[str]) -> set[str]:
    """The subset of ``packages`` dpkg reports as installed (empty on hosts without dpkg)."""
    wanted = sorted(set(packages))
    if not wanted or not dpkg_available():
        return set()
    proc = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package} ${Status}\n", *wanted], capture_output=True, text=True, check=False
    )
    found = set()
    for line in proc.stdout.splitlines():
        name, _, status = line.partition(" ")
        if status.strip() == "install ok installed":
            found.add(name.split(":", 1)[0])
    return found


def missing(packages: Iterable[str]) -> list[str]:
    """The packages that are not installed, sorted; nothing when this host has no dpkg to ask."""
    wanted = set(packages)
    if not dpkg_available():
        return []
    return sorted(wanted - installed(wanted))


def version(package: str) -> str:
    proc = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Version}", package], capture_output=True, text=True, check=False
    )
    return proc.stdout.strip() if proc.returncode == 0 else ""


def install_command(packages: Iterable[str]) -> list[str]:
    return ["apt-get", "install", "-y", "--no-install-recommends", *sorted(set(packages))]


def _run(command: list[str]) -> None:
    proc = subprocess.run(command, env={**os.environ, **APT_ENV}, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise AptError(f"{command[0]} {command[1]} failed (exit {proc.returncode})", command, proc.stdout + proc.stderr)


def install(packages: Iterable[str]) -> dict[str, str]:
    """``apt-get install`` the packages (after ``apt-get update`` when apt has no candidate for one).

    Returns {package: installed version}.
    """
    wanted = sorted(set(packages))
    if not wanted:
        return {}
    policy = subprocess.run(["apt-cache", "policy", *wanted], capture_output=True, text=True, check=False)
    if policy.stdout.count("Candidate:") < len(wanted) or "Candidate: (none)" in policy.stdout:
        _run(["apt-get", "update"])
    _run(install_command(wanted))
    return {package: version(package) for package in wanted}
