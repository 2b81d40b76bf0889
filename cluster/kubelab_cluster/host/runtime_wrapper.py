"""Install the ``capfix`` runtime wrapper (``capfix.py`` as an executable script).

The installed file is the source of :mod:`kubelab_cluster.host.capfix` after a
``#!<python3> -IS`` line (isolated, no site: it starts in ~15 ms), with a footer that
names the real runc and the capabilities to drop, both resolved at install time.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kubelab_cluster.host import capfix
from kubelab_cluster.host.errors import HostError
from kubelab_kit.files import atomic_write

RUNTIME_NAME = "kubelab-capfix"
WRAPPER_PATH = Path("/usr/local/libexec/kubelab/runc-capfix")
SYSTEM_PYTHONS = (Path("/usr/bin/python3"), Path("/usr/local/bin/python3"))
_MARKER = "# Installed by `kubelab-host setup` (kube-dev-lab). Do not edit: rerun the setup instead."


class WrapperError(HostError):
    pass


def find_real_runc(wrapper: Path = WRAPPER_PATH) -> Path:
    """The runc that dockerd would run: ``runc`` on PATH (symlinks resolved), never the wrapper."""
    candidates = [shutil.which("runc"), "/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc"]
    for candidate in candidates:
        if not candidate or not os.access(candidate, os.X_OK):
            continue
        real = Path(candidate).resolve()
        if real != wrapper.resolve():
            return real
    raise WrapperError("no runc binary found (install the runc package: apt-get install runc)")


def find_system_python() -> Path:
    """The host's own python3 (not a virtual environment's, which may move or vanish)."""
    for path in SYSTEM_PYTHONS:
        if os.access(path, os.X_OK):
            return path
    raise WrapperError("no system python3 at /usr/bin/python3 (install it: apt-get install python3)")


def render(real_runc: Path, drop: Iterable[str], python: Path) -> str:
    """The complete text of the wrapper script."""
    source = Path(capfix.__file__).read_text()
    names = sorted(set(drop))
    if not names:
        raise WrapperError("refusing to render a wrapper that drops no capability")
    return (
        f"#!{python} -IS\n{_MARKER}\n{source.rstrip()}\n\n\n"
        f'if __name__ == "__main__":\n'
        f"    main({str(real_runc)!r}, {tuple(names)!r})\n"
    )


@dataclass(frozen=True)
class WrapperState:
    path: Path
    installed: bool
    current: bool  # installed and identical to what ``render`` gives now


def state(expected: str, path: Path = WRAPPER_PATH) -> WrapperState:
    try:
        text = path.read_text()
    except OSError:
        return WrapperState(path, installed=False, current=False)
    return WrapperState(path, installed=True, current=text == expected and os.access(path, os.X_OK))


def install(text: str, path: Path = WRAPPER_PATH) -> bool:
    """Write the wrapper (mode 0755, atomically); False if it was already exactly this."""
    if state(text, path).current:
        return False
    atomic_write(path, text, mode=0o755)
    return True
