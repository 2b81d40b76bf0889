"""Fixtures of the chapter 2 lab, and ``--impl``.

``--impl PATH``: PATH is a directory that holds a ``kubelab_client`` package (e.g.
``labs/client/starter``, or your copy of it), or that package directory itself. It is put
first on ``sys.path`` before any checkpoint is imported, so its ``kubelab_client`` shadows
the reference one; the starter's ``__init__.py`` takes the modules it does not define
from the reference package, so you write only what its TODOs ask for.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from kubelab_cluster.kind.kubectl import Kubectl

if TYPE_CHECKING:
    from kubelab_client.kube import Api

NS = "kubelab-client"
_IMPL: list[Path] = []


def _use_impl(given: str) -> Path:
    path = Path(given).resolve()
    root = path.parent if path.name == "kubelab_client" else path
    if not (root / "kubelab_client" / "__init__.py").is_file():
        raise pytest.UsageError(f"--impl {given}: no kubelab_client package in {root}")
    for name in [m for m in sys.modules if m == "kubelab_client" or m.startswith("kubelab_client.")]:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    import kubelab_client

    found = Path(kubelab_client.__file__ or "").resolve().parent
    if found != root / "kubelab_client":
        raise pytest.UsageError(f"--impl {given}: imported kubelab_client from {found}, not from {root}")
    return root


def pytest_configure(config: pytest.Config) -> None:
    impl = config.getoption("--impl")
    if impl:
        _IMPL.append(_use_impl(impl))


def pytest_report_header(config: pytest.Config) -> str:
    import kubelab_client

    who = "your implementation (--impl)" if _IMPL else "the reference implementation"
    return f"kubelab_client: {Path(kubelab_client.__file__ or '').parent} ({who})"


@pytest.fixture(scope="session")
def api(kubeconfig: Path) -> Iterator[Api]:
    """The admin's client (the kind kubeconfig: CN=kubernetes-admin, O=kubeadm:cluster-admins)."""
    from kubelab_client.kube import Api

    client = Api.from_config(str(kubeconfig))
    yield client
    client.close()


@pytest.fixture(scope="session")
def namespace(kubectl: Kubectl) -> Iterator[str]:
    """The lab's namespace, fresh for each run; everything namespaced goes away with it."""
    kubectl.run("delete", "namespace", NS, "--ignore-not-found", "--wait=true", timeout=180)
    kubectl.run("create", "namespace", NS)
    kubectl.run("label", "namespace", NS, "app.kubernetes.io/part-of=kube-dev-lab")
    yield NS
    kubectl.run("delete", "namespace", NS, "--wait=false", check=False)


def apply(kubectl: Kubectl, obj: dict[str, Any]) -> None:
    kubectl.run("apply", "-f", "-", stdin=json.dumps(obj))


def wait_pod_done(kubectl: Kubectl, namespace: str, name: str, timeout: float = 120) -> tuple[str, str]:
    """Wait until the pod Succeeded or Failed; returns (phase, logs)."""
    deadline = time.monotonic() + timeout
    while True:
        obj = kubectl.json("-n", namespace, "get", "pod", name)
        phase = obj["status"].get("phase", "")
        if phase in ("Succeeded", "Failed"):
            return phase, kubectl.run("-n", namespace, "logs", name)
        if time.monotonic() > deadline:
            events = kubectl.run(
                "-n", namespace, "get", "events", "--field-selector", f"involvedObject.name={name}", check=False
            )
            raise AssertionError(f"pod {name} still {phase} after {timeout:.0f} s\nevents:\n{events}")
        time.sleep(0.5)


def eventually(check: Any, timeout: float = 30.0, interval: float = 0.1, what: str = "") -> Any:
    """Call ``check()`` until it returns a truthy value (returned) or ``timeout``; the last error fails it."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            result = check()
            if result:
                return result
            last = result
        except AssertionError as exc:
            last = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout:.0f} s: {what or check}: {last}")
        time.sleep(interval)


def python_cmd(*args: str) -> list[str]:
    return [sys.executable, *args]


def run_py(*args: str, timeout: float = 60, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(python_cmd(*args), capture_output=True, text=True, timeout=timeout, check=False, env=env)
