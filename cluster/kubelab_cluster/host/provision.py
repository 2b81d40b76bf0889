"""``kubelab-host setup``: make this host able to run the kind cluster, idempotently.

1. Debian packages a build or image step runs (``host/packages.py``) are installed
   first, so that no build stops on a missing header fifteen minutes in.
2. Engine missing (no dockerd, nothing reachable): root on Debian/Ubuntu installs
   ``docker.io``; anyone else gets the exact command to run.
3. Only when the capability bounding set is incomplete: install the capfix wrapper and
   merge it into /etc/docker/daemon.json as the default runtime. On a normal host
   docker's configuration is never touched.
4. Start dockerd if it is not running; restart it only if daemon.json changed or the
   running engine does not use the runtime registered there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kubelab_cluster.host import daemon_json, detect, docker_engine, packages, runtime_wrapper
from kubelab_cluster.host.detect import HostFacts
from kubelab_cluster.host.errors import HostError
from kubelab_cluster.host.findings import engine_fix, setup_command
from kubelab_cluster.progress import console, step


class SetupError(HostError):
    pass


@dataclass
class SetupReport:
    changes: list[str] = field(default_factory=list)
    facts: HostFacts | None = None


def _need_root(facts: HostFacts, what: str) -> None:
    if not facts.is_root:
        raise SetupError(f"{what} needs root. Run: {setup_command(facts)}")


def install_packages(facts: HostFacts) -> list[str]:
    """Install the Debian packages a build or image step runs and this host lacks; returns the changes."""
    if not facts.missing_packages:
        return []
    what = " ".join(facts.missing_packages)
    if not facts.debian_like:
        raise SetupError(f"missing Debian packages ({what}) and this is not Debian/Ubuntu: install their equivalents")
    _need_root(facts, f"installing {what}")
    with step(f"install build and image packages: {what} (apt-get)") as s:
        try:
            versions = packages.install(facts.missing_packages)
        except packages.AptError as exc:
            raise SetupError(str(exc)) from exc
        s.note = ", ".join(f"{p} {v}" for p, v in versions.items())
    return [f"installed {what}"]


def run_setup(timeout: float = 90.0) -> SetupReport:
    report = SetupReport()
    with step("detect the host") as s:
        facts = detect.gather()
        s.note = f"{facts.os_name}; engine {'up' if facts.engine else 'down'}; " + (
            f"bounding set lacks {', '.join(facts.missing_caps)}" if facts.restricted else "full capabilities"
        )

    report.changes += install_packages(facts)

    if facts.docker_cli is None or (facts.engine is None and facts.dockerd is None):
        if not facts.debian_like:
            raise SetupError(f"no docker engine, and this is not Debian/Ubuntu. {engine_fix(facts)}")
        _need_root(facts, f"installing {docker_engine.ENGINE_PACKAGE}")
        with step(f"install {docker_engine.ENGINE_PACKAGE} (apt-get)") as s:
            version = docker_engine.install_engine()
            s.note = f"{docker_engine.ENGINE_PACKAGE} {version}"
            report.changes.append(f"installed {docker_engine.ENGINE_PACKAGE} {version}")

    daemon_changed = False
    if facts.restricted:
        _need_root(facts, "installing the runtime wrapper")
        with step("install the capfix runtime wrapper") as s:
            text = runtime_wrapper.render(
                runtime_wrapper.find_real_runc(), facts.missing_caps, runtime_wrapper.find_system_python()
            )
            if runtime_wrapper.install(text):
                report.changes.append(f"wrote {runtime_wrapper.WRAPPER_PATH}")
                s.note = f"wrote {runtime_wrapper.WRAPPER_PATH} (drops {', '.join(facts.missing_caps)})"
            else:
                s.note = "unchanged"
        with step(f"register {runtime_wrapper.RUNTIME_NAME} in {daemon_json.DAEMON_JSON}") as s:
            daemon_changed = daemon_json.register(runtime_wrapper.RUNTIME_NAME, runtime_wrapper.WRAPPER_PATH)
            s.note = "merged" if daemon_changed else "unchanged"
            if daemon_changed:
                report.changes.append(f"merged runtime {runtime_wrapper.RUNTIME_NAME} into {daemon_json.DAEMON_JSON}")
    else:
        console.print("  capabilities complete: no runtime wrapper, docker's configuration left alone")

    engine, _ = docker_engine.query() if facts.engine else (None, "")
    if engine is None:
        _need_root(facts, "starting dockerd")
        with step("start dockerd") as s:
            s.note = docker_engine.start(timeout)
            report.changes.append("started dockerd")
    elif daemon_changed or (facts.restricted and engine.default_runtime != runtime_wrapper.RUNTIME_NAME):
        _need_root(facts, "restarting dockerd")
        with step("restart dockerd (daemon.json changed)") as s:
            s.note = docker_engine.restart(timeout)
            report.changes.append("restarted dockerd")

    with step("verify the engine") as s:
        engine, error = docker_engine.query()
        if engine is None:
            raise SetupError(f"the engine does not answer after setup: {error}")
        if facts.restricted and engine.default_runtime != runtime_wrapper.RUNTIME_NAME:
            raise SetupError(
                f"dockerd's default runtime is {engine.default_runtime!r}, not {runtime_wrapper.RUNTIME_NAME!r}"
            )
        s.note = (
            f"server {engine.server_version} (API {engine.api_version}), client {engine.client_version} "
            f"(API {engine.client_api_version}), default runtime {engine.default_runtime}"
        )
    report.facts = detect.gather()
    return report
