"""``mkdocs build --strict`` of docs/mkdocs.yml into the cache, and ``mkdocs serve``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kubelab_cluster.progress import step
from kubelab_docs import assets
from kubelab_docs.errors import DocsError
from kubelab_docs.site import config_file, environment, site_dir

QUIET = {"NO_MKDOCS_2_WARNING": "1"}  # material's banner about its successor, printed on every build


def _env() -> dict[str, str]:
    return {**os.environ, **QUIET, **environment()}


def build() -> Path:
    """The site, built strictly (any warning, e.g. a broken link or anchor, fails it)."""
    assets.mermaid()  # outside the build: its download shows as a step of its own
    with step("docs site: mkdocs build --strict") as s:
        proc = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean", "-f", str(config_file())],
            env=_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        problems = [line for line in proc.stderr.splitlines() if line.startswith(("WARNING", "ERROR"))]
        if proc.returncode != 0:
            raise DocsError(
                f"the site does not build ({len(problems)} warnings or errors in strict mode)",
                command=["mkdocs", "build", "--strict", "-f", str(config_file())],
                output="\n".join(problems) or proc.stderr[-4000:],
                fix="fix each link, anchor or page named above (a page not in the nav of docs/mkdocs.yml counts too)",
            )
        pages = sum(1 for _ in site_dir().rglob("index.html"))
        s.note = f"{pages} pages in {site_dir()}"
    return site_dir()


def serve(address: str) -> int:
    command = [sys.executable, "-m", "mkdocs", "serve", "--strict", "-a", address, "-f", str(config_file())]
    assets.mermaid()
    return subprocess.run(command, env=_env(), check=False).returncode
