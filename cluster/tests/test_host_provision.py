"""setup's decisions, with the host faked: what it installs, writes and restarts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from kubelab_cluster.host import daemon_json, detect, docker_engine, packages, provision, runtime_wrapper
from kubelab_cluster.host.detect import HostFacts
from kubelab_cluster.host.docker_engine import EngineInfo
from kubelab_cluster.host.findings import Status, evaluate, usable
from kubelab_kit.capabilities import parse_status

STATUS = "CapInh:\t0\nCapPrm:\t1ffffffffff\nCapEff:\t1ffffffffff\nCapBnd:\t{bnd}\nCapAmb:\t0\n"


def engine(default_runtime: str = "runc") -> EngineInfo:
    return EngineInfo(
        server_version="20.10.24+dfsg1",
        api_version="1.41",
        client_version="28.2.2",
        client_api_version="1.41",
        default_runtime=default_runtime,
        runtimes=("runc",),
        root_dir="/var/lib/docker",
        cgroup_driver="cgroupfs",
        cgroup_version="1",
        storage_driver="overlay2",
    )


def facts(*, restricted: bool, engine_info: EngineInfo | None, root: bool = True, dockerd: bool = True) -> HostFacts:
    bnd = "1fffeffffff" if restricted else "1ffffffffff"
    caps = parse_status(STATUS.format(bnd=bnd))
    return HostFacts(
        docker_cli="/usr/local/bin/docker",
        dockerd="/usr/sbin/dockerd" if dockerd else None,
        engine=engine_info,
        engine_error="" if engine_info else "Cannot connect to the Docker daemon",
        is_root=root,
        os_release={"ID": "debian", "PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)"},
        caps=caps,
        missing_caps=caps.missing_from_bounding(40),
        cgroup="hybrid",
        systemd_init=False,
        disk_path=Path("/var/lib/docker"),
        disk_free=70 << 30,
        wrapper_text="#!/usr/bin/python3 -IS\n",
        wrapper=runtime_wrapper.WrapperState(runtime_wrapper.WRAPPER_PATH, installed=False, current=False),
        daemon_json_registered=False,
    )


class Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, name: str, result: Any = None) -> Any:
        def record(*_: Any, **__: Any) -> Any:
            self.calls.append(name)
            return result

        return record


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    rec = Recorder()
    monkeypatch.setattr(docker_engine, "install_engine", rec("install_engine", "20.10.24+dfsg1-1+deb12u1+b6"))
    monkeypatch.setattr(packages, "install", rec("packages.install", {"libseccomp-dev": "2.5.4-1+deb12u1"}))
    monkeypatch.setattr(docker_engine, "start", rec("start", "started"))
    monkeypatch.setattr(docker_engine, "restart", rec("restart", "restarted"))
    monkeypatch.setattr(runtime_wrapper, "install", rec("wrapper.install", True))
    monkeypatch.setattr(runtime_wrapper, "find_real_runc", lambda: Path("/usr/sbin/runc"))
    monkeypatch.setattr(runtime_wrapper, "find_system_python", lambda: Path("/usr/bin/python3"))
    monkeypatch.setattr(daemon_json, "register", rec("daemon_json.register", True))
    return rec


def _use(monkeypatch: pytest.MonkeyPatch, before: HostFacts, engine_after: EngineInfo) -> None:
    monkeypatch.setattr(detect, "gather", lambda: before)
    monkeypatch.setattr(docker_engine, "query", lambda *a, **k: (engine_after, ""))


def test_normal_host_with_engine_is_left_alone(host: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    _use(monkeypatch, facts(restricted=False, engine_info=engine()), engine())
    report = provision.run_setup()
    assert host.calls == []
    assert report.changes == []


def test_normal_host_without_engine_installs_and_starts_but_writes_no_config(
    host: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, facts(restricted=False, engine_info=None, dockerd=False), engine())
    provision.run_setup()
    assert host.calls == ["install_engine", "start"]


def test_restricted_host_cold(host: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    _use(monkeypatch, facts(restricted=True, engine_info=None, dockerd=False), engine(runtime_wrapper.RUNTIME_NAME))
    report = provision.run_setup()
    assert host.calls == ["install_engine", "wrapper.install", "daemon_json.register", "start"]
    assert "started dockerd" in report.changes


def test_restricted_host_running_engine_restarts_only_when_config_changed(
    host: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, facts(restricted=True, engine_info=engine("runc")), engine(runtime_wrapper.RUNTIME_NAME))
    provision.run_setup()
    assert host.calls == ["wrapper.install", "daemon_json.register", "restart"]


def test_restricted_host_already_set_up_changes_nothing(host: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime_wrapper, "install", host("wrapper.install", False))
    monkeypatch.setattr(daemon_json, "register", host("daemon_json.register", False))
    active = engine(runtime_wrapper.RUNTIME_NAME)
    _use(monkeypatch, facts(restricted=True, engine_info=active), active)
    report = provision.run_setup()
    assert host.calls == ["wrapper.install", "daemon_json.register"]
    assert report.changes == []


def test_missing_build_packages_are_installed_first(host: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    cold = replace(facts(restricted=False, engine_info=None, dockerd=False), missing_packages=["libseccomp-dev"])
    _use(monkeypatch, cold, engine())
    report = provision.run_setup()
    assert host.calls == ["packages.install", "install_engine", "start"]
    assert "installed libseccomp-dev" in report.changes
    row = next(f for f in evaluate(cold) if f.check == "Debian packages")
    assert row.status is Status.FAIL and "libseccomp-dev (builds runc)" in row.detail


def test_not_root_gets_the_command(host: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    _use(monkeypatch, facts(restricted=True, engine_info=None, root=False, dockerd=False), engine())
    with pytest.raises(provision.SetupError, match=r"needs root\. Run: sudo .*setup"):
        provision.run_setup()
    assert host.calls == []


def test_findings() -> None:
    ready = replace(
        facts(restricted=True, engine_info=engine(runtime_wrapper.RUNTIME_NAME)),
        wrapper=runtime_wrapper.WrapperState(runtime_wrapper.WRAPPER_PATH, installed=True, current=True),
        daemon_json_registered=True,
    )
    assert usable(evaluate(ready))
    not_restarted = replace(ready, engine=engine("runc"))
    capfix = next(f for f in evaluate(not_restarted) if f.check == "capfix runtime")
    assert capfix.status is Status.FAIL and "restart dockerd" in capfix.detail
    down = evaluate(facts(restricted=False, engine_info=None, dockerd=False))
    assert not usable(down)
    engine_row = next(f for f in down if f.check == "docker engine")
    assert "apt-get install -y docker.io" in engine_row.fix
    small = replace(ready, disk_free=5 << 30)
    assert next(f for f in evaluate(small) if f.check == "disk").status is Status.WARN
