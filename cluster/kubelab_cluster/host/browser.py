"""The host's browser for the checks that need a real one (the docs site, the dashboard): Debian's
chromium, driven by playwright through its executable path (browser downloads are not possible here)."""

from __future__ import annotations

import shutil

from kubelab_cluster.host.errors import HostError

NAMES = ("chromium", "chromium-browser")
LAUNCH_ARGS = ["--no-sandbox"]  # root in a container-less CI: chromium's sandbox needs a user namespace


def chromium() -> str:
    """The chromium executable's path; an error with the fix when the host has none."""
    for name in NAMES:
        if path := shutil.which(name):
            return path
    raise HostError(
        "no chromium on this host",
        fix="apt-get install chromium (uv run nox -s host installs it; browser downloads are not possible here)",
    )
