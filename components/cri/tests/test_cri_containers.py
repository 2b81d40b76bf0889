"""Containers on this host, as the kubelet asks for them over the socket: runc (from the
toolchain) runs a busybox image pulled from a real registry into a sandbox wired by the
reference CNI plugins; logs in the CRI format, ExecSync, exit codes, stop, the security
context, resources, a restart of the runtime, and nothing left behind after remove."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import grpc
import pytest

from kubelab_kit.grpc import connect
from kubelab_protos.gen.cri.v1 import api_pb2, api_pb2_grpc

from .node import Node, container, exec_sync, sandbox, server, status, wait_exited
from .pods import conflist, our_netns

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="containers need root")
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) (F|P) (.*)$")


def log_records(path: Path) -> list[tuple[str, str, str]]:
    out = []
    for line in path.read_text().splitlines():
        match = LINE.match(line)
        assert match, f"not a CRI log line: {line!r}"
        out.append((match[1], match[2], match[3]))
    return out


def runc_ids(root: Path) -> list[str]:
    return sorted(os.listdir(root / "runc")) if (root / "runc").is_dir() else []


def test_a_container_runs_in_its_pod_logs_and_execs(node: Node) -> None:
    sid, scfg = sandbox(node, "web")
    cid = container(node, sid, scfg, "app", "echo hello; echo oops >&2; exec sleep 3600")
    assert status(node, cid).state == api_pb2.CONTAINER_CREATED
    node.runtime.StartContainer(api_pb2.StartContainerRequest(container_id=cid))
    s = status(node, cid)
    assert s.state == api_pb2.CONTAINER_RUNNING and s.started_at >= s.created_at > 0
    assert s.log_path == str(node.logs / "web" / "app" / "0.log")
    deadline = time.monotonic() + 10
    while len(log_records(Path(s.log_path))) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(log_records(Path(s.log_path))) == [("stderr", "F", "oops"), ("stdout", "F", "hello")]

    assert exec_sync(node, cid, "hostname").stdout == b"web-host\n"
    env = exec_sync(node, cid, "env").stdout.decode().splitlines()
    assert "GREETING=hello from the request" in env and "HOSTNAME=web-host" in env
    resolv = exec_sync(node, cid, "cat", "/etc/resolv.conf").stdout.decode()
    assert "nameserver 10.96.0.10" in resolv and "search default.svc.cluster.local" in resolv
    pod_ip = node.runtime.PodSandboxStatus(api_pb2.PodSandboxStatusRequest(pod_sandbox_id=sid)).status.network.ip
    assert pod_ip in exec_sync(node, cid, "ip", "addr", "show", "eth0").stdout.decode(), "the pod's network namespace"
    lo = exec_sync(node, cid, "ip", "addr", "show", "lo").stdout.decode()
    assert "127.0.0.1" in lo and "UP" in lo, f"the pod's loopback is up: {lo}"
    failed = exec_sync(node, cid, "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (failed.exit_code, failed.stdout, failed.stderr) == (3, b"out\n", b"err\n")
    assert exec_sync(node, cid, "id", "-u").stdout == b"0\n"
    with pytest.raises(grpc.RpcError) as err:
        exec_sync(node, cid, "sleep", "30", timeout=1)
    assert err.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    table = exec_sync(node, cid, "ps", "-o", "stat,args").stdout.decode().splitlines()
    assert all(line.split()[0].startswith("Z") for line in table if "sleep 30" in line or "[sleep]" in line), (
        f"the timed-out exec was killed (a zombie at most: the container's init does not reap): {table}"
    )


def test_exit_codes_and_reasons(node: Node) -> None:
    sid, scfg = sandbox(node, "jobs")
    codes = {}
    for name, script in (("ok", "true"), ("bad", "exit 7"), ("killed", "sleep 100 & kill -9 $!; wait $!")):
        cid = container(node, sid, scfg, name, script)
        node.runtime.StartContainer(api_pb2.StartContainerRequest(container_id=cid))
        s = wait_exited(node, cid)
        codes[name] = (s.exit_code, s.reason, s.finished_at >= s.started_at)
    assert codes == {"ok": (0, "Completed", True), "bad": (7, "Error", True), "killed": (137, "Error", True)}
    exited = api_pb2.ContainerFilter(state=api_pb2.ContainerStateValue(state=api_pb2.CONTAINER_EXITED))
    assert len(node.runtime.ListContainers(api_pb2.ListContainersRequest(filter=exited)).containers) == 3


def test_stop_sends_the_signal_then_kills(node: Node) -> None:
    sid, scfg = sandbox(node, "stops")
    polite = container(node, sid, scfg, "polite", "trap 'exit 0' TERM; while true; do sleep 0.1; done")
    stubborn = container(node, sid, scfg, "stubborn", "trap '' TERM; while true; do sleep 0.1; done")
    for cid in (polite, stubborn):
        node.runtime.StartContainer(api_pb2.StartContainerRequest(container_id=cid))
    time.sleep(0.5)  # the traps are set
    started = time.monotonic()
    node.runtime.StopContainer(api_pb2.StopContainerRequest(container_id=polite, timeout=10))
    assert time.monotonic() - started < 5 and status(node, polite).exit_code == 0
    started = time.monotonic()
    node.runtime.StopContainer(api_pb2.StopContainerRequest(container_id=stubborn, timeout=1))
    assert time.monotonic() - started >= 1 and status(node, stubborn).exit_code == 137
    node.runtime.StopContainer(api_pb2.StopContainerRequest(container_id=stubborn, timeout=1))  # idempotent


def test_unknown_ids_and_names(node: Node) -> None:
    for call, request in (
        (node.runtime.ContainerStatus, api_pb2.ContainerStatusRequest(container_id="nope")),
        (node.runtime.StartContainer, api_pb2.StartContainerRequest(container_id="nope")),
        (node.runtime.ExecSync, api_pb2.ExecSyncRequest(container_id="nope", cmd=["true"])),
    ):
        with pytest.raises(grpc.RpcError) as err:
            call(request)  # type: ignore[operator]
        assert err.value.code() is grpc.StatusCode.NOT_FOUND, call
    node.runtime.StopContainer(api_pb2.StopContainerRequest(container_id="nope"))  # stopping nothing is fine
    node.runtime.RemoveContainer(api_pb2.RemoveContainerRequest(container_id="nope"))  # removing nothing is fine
    sid, scfg = sandbox(node, "names")
    container(node, sid, scfg, "one", "sleep 1")
    with pytest.raises(grpc.RpcError) as err:
        container(node, sid, scfg, "one", "sleep 1")
    assert err.value.code() is grpc.StatusCode.ALREADY_EXISTS
    missing = api_pb2.ContainerConfig(
        metadata=api_pb2.ContainerMetadata(name="x"), image=api_pb2.ImageSpec(image="absent:1")
    )
    with pytest.raises(grpc.RpcError) as err:
        node.runtime.CreateContainer(api_pb2.CreateContainerRequest(pod_sandbox_id=sid, config=missing))
    assert err.value.code() is grpc.StatusCode.NOT_FOUND and "not present" in str(err.value.details())


def test_filters_are_exact(node: Node) -> None:
    a, acfg = sandbox(node, "fa")
    b, bcfg = sandbox(node, "fb")
    ca = container(node, a, acfg, "x", "sleep 60")
    cb = container(node, b, bcfg, "y", "sleep 60")
    node.runtime.StartContainer(api_pb2.StartContainerRequest(container_id=cb))

    def ids(f: api_pb2.ContainerFilter) -> list[str]:
        return [c.id for c in node.runtime.ListContainers(api_pb2.ListContainersRequest(filter=f)).containers]

    assert ids(api_pb2.ContainerFilter(pod_sandbox_id=a)) == [ca]
    assert ids(api_pb2.ContainerFilter(id=cb)) == [cb] and ids(api_pb2.ContainerFilter(id=cb[:12])) == []
    running = api_pb2.ContainerStateValue(state=api_pb2.CONTAINER_RUNNING)
    assert ids(api_pb2.ContainerFilter(state=running)) == [cb]
    assert ids(api_pb2.ContainerFilter(label_selector={"io.kubernetes.container.name": "x"})) == [ca]
    assert ids(api_pb2.ContainerFilter(label_selector={"io.kubernetes.container.name": "x", "more": "1"})) == []


def test_security_context_mounts_and_resources(node: Node, tmp_path: Path) -> None:
    sid, scfg = sandbox(node, "secure")
    data = tmp_path / "volume"
    data.mkdir()
    (data / "file").write_text("from the host\n")
    mounts = [api_pb2.Mount(container_path="/data", host_path=str(data), readonly=True)]
    resources = api_pb2.LinuxContainerResources(
        memory_limit_in_bytes=64 << 20, cpu_shares=512, cpu_quota=50000, cpu_period=100000
    )
    cid = container(
        node,
        sid,
        scfg,
        "locked",
        "exec sleep 3600",
        mounts=mounts,
        resources=resources,
        run_as_user=api_pb2.Int64Value(value=65534),
        readonly_rootfs=True,
        supplemental_groups=[2000],
    )
    node.runtime.StartContainer(api_pb2.StartContainerRequest(container_id=cid))
    assert exec_sync(node, cid, "id").stdout.decode().split() == [
        "uid=65534(nobody)",
        "gid=65534(nobody)",
        "groups=2000",
    ]
    assert exec_sync(node, cid, "cat", "/data/file").stdout == b"from the host\n"
    assert exec_sync(node, cid, "touch", "/data/new").exit_code != 0, "the volume is read-only"
    assert exec_sync(node, cid, "touch", "/new").exit_code != 0, "the root filesystem is read-only"
    assert exec_sync(node, cid, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes").stdout == b"67108864\n"
    assert exec_sync(node, cid, "cat", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us").stdout == b"50000\n"
    assert exec_sync(node, cid, "cat", "/sys/fs/cgroup/cpu/cpu.shares").stdout == b"512\n"
    caps = exec_sync(node, cid, "grep", "CapEff", "/proc/self/status").stdout.decode()
    assert caps.split()[1] == "0000000000000000", "a non-root process has no effective capabilities"
    s = status(node, cid)
    assert (s.mounts[0].container_path, s.mounts[0].readonly) == ("/data", True)
    assert (s.user.linux.uid, s.user.linux.gid) == (65534, 65534)


def test_oom_kill_is_reported(node: Node) -> None:
    sid, scfg = sandbox(node, "oom")
    small = api_pb2.LinuxContainerResources(memory_limit_in_bytes=16 << 20)
    cid = container(node, sid, scfg, "hog", "dd if=/dev/zero of=/dev/null bs=64M count=1", resources=small)
    node.runtime.StartContainer(api_pb2.StartContainerRequest(container_id=cid))
    s = wait_exited(node, cid)
    assert (s.exit_code, s.reason) == (137, "OOMKilled")


def test_tty_output_is_logged(node: Node) -> None:
    sid, scfg = sandbox(node, "tty")
    cid = container(node, sid, scfg, "term", "tty; echo done", tty=True)
    node.runtime.StartContainer(api_pb2.StartContainerRequest(container_id=cid))
    s = wait_exited(node, cid)
    text = [r[2].rstrip("\r") for r in log_records(Path(s.log_path))]
    assert text == ["/dev/pts/0", "done"] and s.exit_code == 0


def test_a_restarted_runtime_keeps_containers_and_remove_leaves_nothing(
    tmp_path: Path, image: str, runc_binary: str
) -> None:
    conf_dir = conflist(tmp_path)
    try:
        restart_and_remove(tmp_path, conf_dir, image, runc_binary)
    finally:  # a failure above must not leave a running container on this host
        with server(tmp_path, conf_dir, runc_binary) as srv, connect(srv.path) as channel:
            runtime = api_pb2_grpc.RuntimeServiceStub(channel)
            for s in runtime.ListPodSandbox(api_pb2.ListPodSandboxRequest()).items:
                runtime.RemovePodSandbox(api_pb2.RemovePodSandboxRequest(pod_sandbox_id=s.id))


def restart_and_remove(tmp_path: Path, conf_dir: Path, image: str, runc_binary: str) -> None:
    netns_before = our_netns()
    with server(tmp_path, conf_dir, runc_binary) as srv, connect(srv.path) as channel:
        n = Node.over(channel, tmp_path, image)
        n.images.PullImage(api_pb2.PullImageRequest(image=api_pb2.ImageSpec(image=image)))
        sid, scfg = sandbox(n, "kept")
        cid = container(n, sid, scfg, "app", "while true; do echo tick; sleep 0.2; done")
        n.runtime.StartContainer(api_pb2.StartContainerRequest(container_id=cid))
        pid = int((tmp_path / "store" / "containers" / cid / "state" / "pid").read_text())
        with pytest.raises(grpc.RpcError) as err:
            n.images.RemoveImage(api_pb2.RemoveImageRequest(image=api_pb2.ImageSpec(image=image)))
        assert "used by a container" in str(err.value.details())
    # the runtime is gone: the container is not
    time.sleep(0.5)
    assert Path(f"/proc/{pid}").exists()
    with server(tmp_path, conf_dir, runc_binary) as srv, connect(srv.path) as channel:
        n = Node.over(channel, tmp_path, image)
        assert status(n, cid).state == api_pb2.CONTAINER_RUNNING
        assert exec_sync(n, cid, "echo", "still here").stdout == b"still here\n"
        log = Path(status(n, cid).log_path)
        before = len(log_records(log))
        time.sleep(0.6)
        assert len(log_records(log)) > before, "the monitor kept logging while the runtime was away"
        shim = int((tmp_path / "store" / "containers" / cid / "state" / "shim.pid").read_text())
        n.runtime.StopPodSandbox(api_pb2.StopPodSandboxRequest(pod_sandbox_id=sid))
        assert status(n, cid).state == api_pb2.CONTAINER_EXITED, "stopping the pod stopped its container"
        n.runtime.RemovePodSandbox(api_pb2.RemovePodSandboxRequest(pod_sandbox_id=sid))
        assert not n.runtime.ListContainers(api_pb2.ListContainersRequest()).containers
        n.images.RemoveImage(api_pb2.RemoveImageRequest(image=api_pb2.ImageSpec(image=image)))  # no longer in use
    assert not Path(f"/proc/{pid}").exists() and not Path(f"/proc/{shim}").exists(), "no process left"
    assert runc_ids(tmp_path) == [], "runc forgot the container"
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(tmp_path) not in mounts, "no mount left"
    assert not list((tmp_path / "store" / "containers").iterdir()), "no bundle left"
    assert not any(Path("/sys/fs/cgroup/memory/kubelab-cri").glob(f"kcri-{cid}")), "no cgroup left"
    assert our_netns() == netns_before
    assert subprocess.run(["pgrep", "-f", cid], capture_output=True).returncode == 1


def test_stats_come_from_the_containers_cgroups(node: Node) -> None:
    sid, scfg = sandbox(node, "busy")
    cid = container(node, sid, scfg, "spin", "dd if=/dev/zero of=/tmp/fill bs=1M count=8; exec sleep 3600")
    other = container(node, sid, scfg, "idle", "exec sleep 3600")
    for c in (cid, other):
        node.runtime.StartContainer(api_pb2.StartContainerRequest(container_id=c))
    time.sleep(1)
    s = node.runtime.ContainerStats(api_pb2.ContainerStatsRequest(container_id=cid)).stats
    assert s.attributes.id == cid and s.cpu.usage_core_nano_seconds.value > 0
    assert s.memory.working_set_bytes.value > 0 and s.memory.usage_bytes.value >= s.memory.working_set_bytes.value
    assert s.writable_layer.used_bytes.value >= 8 << 20, "the 8 MiB file is in the writable layer"
    listed = node.runtime.ListContainerStats(
        api_pb2.ListContainerStatsRequest(filter=api_pb2.ContainerStatsFilter(pod_sandbox_id=sid))
    ).stats
    assert sorted(x.attributes.id for x in listed) == sorted([cid, other])
    by_label = node.runtime.ListContainerStats(
        api_pb2.ListContainerStatsRequest(
            filter=api_pb2.ContainerStatsFilter(label_selector={"io.kubernetes.container.name": "idle"})
        )
    ).stats
    assert [x.attributes.id for x in by_label] == [other]


def ns_of(node: Node, cid: str, kind: str) -> str:
    return exec_sync(node, cid, "readlink", f"/proc/self/ns/{kind}").stdout.decode().strip()


def test_a_pod_shares_ipc_and_uts_and_on_request_one_pid_namespace(node: Node, tmp_path: Path) -> None:
    shared = api_pb2.NamespaceOption(pid=api_pb2.POD, ipc=api_pb2.POD)
    sid, scfg = sandbox(node, "shared", namespace_options=shared)
    first = container(node, sid, scfg, "first", "exec sleep 3601", namespace_options=shared)
    second = container(node, sid, scfg, "second", "exec sleep 3602", namespace_options=shared)
    alone = container(
        node,
        sid,
        scfg,
        "alone",
        "exec sleep 3603",
        namespace_options=api_pb2.NamespaceOption(ipc=api_pb2.POD, pid=api_pb2.CONTAINER),
    )
    for c in (first, second, alone):
        node.runtime.StartContainer(api_pb2.StartContainerRequest(container_id=c))
    assert ns_of(node, first, "ipc") == ns_of(node, second, "ipc") == ns_of(node, alone, "ipc"), "the pod's IPC"
    assert ns_of(node, first, "uts") == ns_of(node, alone, "uts") and exec_sync(node, alone, "hostname").stdout == (
        b"shared-host\n"
    )
    assert ns_of(node, first, "pid") == ns_of(node, second, "pid") != ns_of(node, alone, "pid")
    seen = exec_sync(node, first, "ps", "-o", "pid,args").stdout.decode()
    assert "sleep 3602" in seen and "sleep 3603" not in seen, f"the pod's processes, one PID namespace: {seen}"
    assert re.search(r"^\s*1 .*kubelab_cri.runtime.pod_reaper", seen, re.M), f"PID 1 is the pod's holder: {seen}"
    holder = node.runtime.PodSandboxStatus(api_pb2.PodSandboxStatusRequest(pod_sandbox_id=sid))
    assert holder.status.state == api_pb2.SANDBOX_READY
    pins = [line for line in Path("/proc/self/mountinfo").read_text().splitlines() if sid in line]
    assert len(pins) == 2, f"IPC and UTS pinned under the sandbox: {pins}"
    holder_pid = int(
        json.loads((node.root / "store" / "sandboxes" / sid / "ns" / "pid-holder.json").read_text())["pid"]
    )
    assert os.readlink(f"/proc/{holder_pid}/ns/pid") != os.readlink("/proc/self/ns/pid")
    node.runtime.StopPodSandbox(api_pb2.StopPodSandboxRequest(pod_sandbox_id=sid))
    assert not [line for line in Path("/proc/self/mountinfo").read_text().splitlines() if sid in line]
    time.sleep(0.2)
    assert not Path(f"/proc/{holder_pid}").exists(), "the PID holder is gone with the pod"
    with pytest.raises(grpc.RpcError) as err:
        container(node, sid, scfg, "late", "true", namespace_options=shared)
    assert err.value.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION)
