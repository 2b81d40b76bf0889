"""Judge :class:`HostFacts`: one finding per check, each problem with the command that fixes it."""

from __future__ import annotations

import enum
import sys
from dataclasses import dataclass

from kubelab_cluster.host import docker_engine, packages, runtime_wrapper
from kubelab_cluster.host.detect import GIB, MIN_FREE_GIB, HostFacts


class Status(enum.Enum):
    OK = "ok"
    INFO = "info"
    WARN = "warn"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Finding:
    check: str
    status: Status
    detail: str
    fix: str = ""


def setup_command(facts: HostFacts) -> str:
    """How to run ``kubelab-host setup`` with the rights it needs."""
    prog = sys.argv[0] if sys.argv and sys.argv[0].endswith("kubelab-host") else "kubelab-host"
    return f"{prog} setup" if facts.is_root else f"sudo {prog} setup"


def engine_fix(facts: HostFacts) -> str:
    if facts.debian_like:
        if facts.dockerd is None:
            return (
                f"{setup_command(facts)}   (or: apt-get install -y {docker_engine.ENGINE_PACKAGE}, then start dockerd)"
            )
        return f"{setup_command(facts)}   (starts dockerd)"
    return "install Docker Engine (https://docs.docker.com/engine/install/), start it, then rerun `kubelab-host check`"


def evaluate(facts: HostFacts) -> list[Finding]:
    out: list[Finding] = []
    if facts.docker_cli:
        version = f" {facts.engine.client_version}" if facts.engine else ""
        out.append(Finding("docker CLI", Status.OK, f"{facts.docker_cli}{version}"))
    else:
        out.append(Finding("docker CLI", Status.FAIL, "not on PATH", engine_fix(facts)))

    if facts.engine:
        e = facts.engine
        detail = (
            f"{e.server_version} (API {e.api_version}, client API {e.client_api_version}), "
            f"{e.storage_driver}, cgroup driver {e.cgroup_driver}, default runtime {e.default_runtime}"
        )
        out.append(Finding("docker engine", Status.OK, detail))
    else:
        where = f"dockerd at {facts.dockerd}" if facts.dockerd else "no dockerd installed"
        out.append(
            Finding("docker engine", Status.FAIL, f"unreachable: {facts.engine_error} ({where})", engine_fix(facts))
        )

    out.append(_packages_finding(facts))
    out.append(
        Finding(
            "root", Status.OK if facts.is_root else Status.INFO, "yes" if facts.is_root else "no (setup needs root)"
        )
    )
    out.append(
        Finding("OS", Status.OK, facts.os_name)
        if facts.debian_like
        else Finding("OS", Status.WARN, f"{facts.os_name}: setup can only install the engine on Debian/Ubuntu")
    )

    if facts.restricted:
        missing = ", ".join(facts.missing_caps)
        out.append(
            Finding(
                "capabilities",
                Status.WARN,
                f"bounding set lacks {missing}: `docker run --privileged` needs the capfix runtime",
            )
        )
        out.append(_capfix_finding(facts))
    else:
        out.append(Finding("capabilities", Status.OK, "full bounding set: no runtime wrapper needed"))
        if facts.engine and facts.engine.default_runtime == runtime_wrapper.RUNTIME_NAME:
            out.append(
                Finding(
                    "capfix runtime",
                    Status.WARN,
                    "registered as the default runtime although this host does not need it",
                    f'remove "default-runtime" and runtimes.{runtime_wrapper.RUNTIME_NAME} from '
                    "/etc/docker/daemon.json, then restart dockerd",
                )
            )

    free_gib = facts.disk_free / GIB
    disk = f"{free_gib:.0f} GiB free under {facts.disk_path}"
    if free_gib < MIN_FREE_GIB:
        out.append(Finding("disk", Status.WARN, disk, f"free space there: images and nodes want ≥ {MIN_FREE_GIB} GiB"))
    else:
        out.append(Finding("disk", Status.OK, disk))

    cgroup_note = {
        "v2": "unified",
        "hybrid": "v1 controllers + cgroup2 at /sys/fs/cgroup/unified; kubelet needs failCgroupV1: false",
        "v1": "kubelet needs failCgroupV1: false",
    }.get(facts.cgroup, "no cgroup mounts found")
    out.append(
        Finding("cgroups", Status.INFO if facts.cgroup != "none" else Status.FAIL, f"{facts.cgroup} ({cgroup_note})")
    )
    out.append(
        Finding(
            "init",
            Status.INFO,
            "systemd (dockerd via systemctl)" if facts.systemd_init else "not systemd (dockerd as a background daemon)",
        )
    )
    return out


def _packages_finding(facts: HostFacts) -> Finding:
    needed = packages.required()
    if not facts.missing_packages:
        return Finding("Debian packages", Status.OK, f"{len(needed)} build and image packages installed")
    why = ", ".join(f"{p} ({needed.get(p, 'needed')})" for p in facts.missing_packages)
    fix = setup_command(facts) if facts.debian_like else "install the equivalent packages with your package manager"
    return Finding(
        "Debian packages",
        Status.FAIL,
        f"missing: {why}",
        f"{fix}   (or: {' '.join(packages.install_command(facts.missing_packages))})",
    )


def _capfix_finding(facts: HostFacts) -> Finding:
    fix = setup_command(facts)
    if facts.daemon_json_error:
        return Finding("capfix runtime", Status.FAIL, facts.daemon_json_error, "fix /etc/docker/daemon.json by hand")
    if facts.wrapper_text is None:
        return Finding("capfix runtime", Status.FAIL, "cannot build the wrapper: runc or /usr/bin/python3 missing", fix)
    if not facts.wrapper.current:
        state = "outdated" if facts.wrapper.installed else "not installed"
        return Finding("capfix runtime", Status.FAIL, f"{runtime_wrapper.WRAPPER_PATH} {state}", fix)
    if not facts.daemon_json_registered:
        return Finding("capfix runtime", Status.FAIL, "not registered in /etc/docker/daemon.json", fix)
    if facts.engine and not facts.capfix_active:
        return Finding(
            "capfix runtime",
            Status.FAIL,
            f"registered, but the engine's default runtime is {facts.engine.default_runtime!r} (restart dockerd)",
            fix,
        )
    return Finding(
        "capfix runtime", Status.OK, f"default runtime {runtime_wrapper.RUNTIME_NAME} → {facts.wrapper.path}"
    )


def usable(findings: list[Finding]) -> bool:
    return not any(f.status is Status.FAIL for f in findings)
