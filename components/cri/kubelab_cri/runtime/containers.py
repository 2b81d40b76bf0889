"""Containers (book 4.3): created from an image in the store into a sandbox, run by runc.

Each container is a directory under ``root/containers/<id>``: its record (``record.json``),
its bundle (``config.json`` and the ``rootfs`` overlay mount, with ``upper``/``work``) and the
monitor's state (``state/``: the init's pid, ``exit.json`` once it has exited, runc's log).
Its process is watched by a monitor of its own (:mod:`kubelab_cri.runtime.shim`) in a session
apart from the runtime's, so containers keep running while the runtime restarts, and a
restarted runtime reads their state from the same files: nothing is kept only in memory.

The CRI's rules: a name (metadata name + attempt) is unique within its sandbox; unknown IDs
answer NOT_FOUND; stop and remove are idempotent (remove of an unknown ID succeeds); list
filters match exactly; ExecSync runs in the container and honours its timeout.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import grpc

from kubelab_cri.images.store import ImageRecord, ImageStore
from kubelab_cri.runtime import rootfs, spec, stats, users
from kubelab_cri.runtime.attach_socket import NAME as ATTACH_NAME
from kubelab_cri.runtime.runc import Runc, RuncError
from kubelab_cri.runtime.sandboxes import READY, Sandboxes
from kubelab_cri.runtime.shim import EXIT_FILE
from kubelab_kit.grpc import FailedPrecondition, GrpcStatusError, InvalidArgument, NotFound
from kubelab_protos.gen.cri.v1 import api_pb2

CREATED, RUNNING, EXITED, UNKNOWN = "CONTAINER_CREATED", "CONTAINER_RUNNING", "CONTAINER_EXITED", "CONTAINER_UNKNOWN"
SHIM_REPORT_TIMEOUT = 120.0
EXEC_OUTPUT_LIMIT = 16 << 20


@dataclass
class Container:
    id: str
    sandbox_id: str
    name: str
    attempt: int
    image: str  # as the request named it
    image_id: str
    image_ref: str
    created_at: int
    log_path: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    mounts: list[dict[str, Any]] = field(default_factory=list)
    stop_signal: str = "SIGTERM"
    own_pid_namespace: bool = True
    pid: int = 0
    started_at: int = 0
    uid: int = 0
    gid: int = 0
    groups: list[int] = field(default_factory=list)

    def metadata(self) -> api_pb2.ContainerMetadata:
        return api_pb2.ContainerMetadata(name=self.name, attempt=self.attempt)


@dataclass(frozen=True)
class Exit:
    exit_code: int
    finished_at: int
    oom_killed: bool = False
    reason: str = ""
    message: str = ""

    @property
    def why(self) -> str:
        if self.reason:
            return self.reason
        if self.oom_killed:
            return "OOMKilled"
        return "Completed" if self.exit_code == 0 else "Error"


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Containers:
    def __init__(
        self,
        root: Path,
        store: ImageStore,
        sandboxes: Sandboxes,
        runc: Runc,
        cgroup_driver: str = "systemd",
        held: set[str] | None = None,
        python: str = sys.executable,
    ) -> None:
        self.dir = root / "containers"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.store = store
        self.sandboxes = sandboxes
        self.runc = runc
        self.cgroup_driver = cgroup_driver
        self.held = held if held is not None else spec.held_capabilities()
        self.python = python
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    # -- records -------------------------------------------------------------------------------
    def _record_path(self, container_id: str) -> Path:
        return self.dir / container_id / "record.json"

    def _save(self, c: Container) -> None:
        path = self._record_path(c.id)
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(asdict(c)))
        partial.replace(path)

    def get(self, container_id: str) -> Container:
        path = self._record_path(container_id) if container_id and "/" not in container_id else None
        if path is None or not path.is_file():
            raise NotFound(f"container {container_id!r} not found")
        return Container(**json.loads(path.read_text()))

    def all(self) -> list[Container]:
        out = []
        for path in sorted(self.dir.glob("*/record.json")):
            with contextlib.suppress(OSError, ValueError):
                out.append(Container(**json.loads(path.read_text())))
        return out

    @contextlib.contextmanager
    def _locked(self, container_id: str) -> Iterator[None]:
        with self._lock:
            lock = self._locks.setdefault(container_id, threading.Lock())
        with lock:
            yield

    def _state_dir(self, container_id: str) -> Path:
        return self.dir / container_id / "state"

    def _exit_file(self, c: Container) -> Exit | None:
        try:
            return Exit(**json.loads((self._state_dir(c.id) / EXIT_FILE).read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def exit_of(self, c: Container) -> Exit | None:
        if (written := self._exit_file(c)) is not None:
            return written
        shim_pid = self._shim_pid(c.id)
        if c.pid and not _alive(shim_pid) and not _alive(c.pid):
            # the monitor may have written the exit and ended between the two readings
            if (written := self._exit_file(c)) is not None:
                return written
            # the monitor and the process are both gone without a word (a node reboot, a kill -9)
            return Exit(255, time.time_ns(), reason="Unknown", message="the container's monitor is gone")
        return None

    def _shim_pid(self, container_id: str) -> int:
        try:
            return int((self._state_dir(container_id) / "shim.pid").read_text())
        except (OSError, ValueError):
            return 0

    def state_of(self, c: Container) -> str:
        return self._state(c, self.exit_of(c))

    @staticmethod
    def _state(c: Container, ended: Exit | None) -> str:
        """The state from one reading of the exit (read twice, a container exiting in between
        was EXITED with no exit code, reason or finish time: seen in CI)."""
        if ended is not None:
            return EXITED
        if c.started_at:
            return RUNNING
        return CREATED if c.pid else UNKNOWN

    # -- lifecycle -----------------------------------------------------------------------------
    def create(
        self, sandbox_id: str, config: api_pb2.ContainerConfig, sandbox_config: api_pb2.PodSandboxConfig | None
    ) -> Container:
        sandbox = self.sandboxes.get(sandbox_id)
        if sandbox.state != READY:
            raise FailedPrecondition(f"CreateContainer: pod sandbox {sandbox_id} is not ready")
        name = config.metadata.name
        if not name:
            raise InvalidArgument("CreateContainer: metadata.name must be set")
        if not config.image.image:
            raise InvalidArgument("CreateContainer: image.image must be set")
        image = self.store.find(config.image.image)
        if image is None:
            raise NotFound(f"CreateContainer: image {config.image.image!r} is not present (pull it first)")
        container_id = secrets.token_hex(32)
        with self._lock:
            for other in self.all():
                if other.sandbox_id == sandbox_id and other.name == name and other.attempt == config.metadata.attempt:
                    raise GrpcStatusError(
                        f"CreateContainer: {name!r} attempt {config.metadata.attempt} already exists in pod "
                        f"sandbox {sandbox_id} as {other.id}",
                        code=grpc.StatusCode.ALREADY_EXISTS,
                    )
            (self.dir / container_id).mkdir()
            c = Container(
                id=container_id,
                sandbox_id=sandbox_id,
                name=name,
                attempt=config.metadata.attempt,
                image=config.image.image,
                image_id=image.id,
                image_ref=image.repo_digests[0] if image.repo_digests else image.id,
                created_at=time.time_ns(),
                labels=dict(config.labels),
                annotations=dict(config.annotations),
            )
            self._save(c)  # the name is taken from here on
        try:
            self._make(c, config, image)
        except BaseException:
            self._destroy(c.id)
            raise
        return c

    def _make(self, c: Container, config: api_pb2.ContainerConfig, image: ImageRecord) -> None:
        sandbox = self.sandboxes.get(c.sandbox_id)
        bundle = self.dir / c.id
        root = rootfs.mount(self.store.layer_dirs(image), self.store.layers, bundle)
        sc = config.linux.security_context
        user = users.resolve(
            root,
            str((image.config.get("config") or {}).get("User") or ""),
            run_as_user=sc.run_as_user.value if sc.HasField("run_as_user") else None,
            run_as_username=sc.run_as_username,
            run_as_group=sc.run_as_group.value if sc.HasField("run_as_group") else None,
            supplemental=list(sc.supplemental_groups),
            strict=sc.supplemental_groups_policy == api_pb2.Strict,
        )
        target_pid = None
        if sc.namespace_options.pid == api_pb2.TARGET:
            with contextlib.suppress(NotFound):
                target = self.get(sc.namespace_options.target_id)
                target_pid = target.pid if self.state_of(target) == RUNNING else None
        files = self.sandboxes.files(sandbox.id)
        shared = self.sandboxes.namespaces(sandbox.id)
        pod = spec.PodContext(
            netns_path=sandbox.netns_path,
            hostname=sandbox.hostname,
            resolv_conf=files / "resolv.conf" if (files / "resolv.conf").is_file() else None,
            hostname_file=files / "hostname" if (files / "hostname").is_file() else None,
            sysctls=sandbox.sysctls,
            cgroup_parent=sandbox.cgroup_parent,
            ipc_path=shared.ipc_path(),
            uts_path=shared.uts_path(),
            pid_path=shared.pid_path(),
        )
        document = spec.build(
            config=config,
            image_config=image.config,
            user=user,
            pod=pod,
            container_id=c.id,
            cgroup_driver=self.cgroup_driver,
            held=self.held,
            target_pid=target_pid,
        )
        (bundle / "config.json").write_text(json.dumps(document, indent=1))
        c.log_path = (
            os.path.join(sandbox.log_directory, config.log_path) if sandbox.log_directory and config.log_path else ""
        )
        c.mounts = [
            {
                "container_path": m.container_path,
                "host_path": m.host_path,
                "readonly": m.readonly,
                "propagation": m.propagation,
            }
            for m in config.mounts
        ]
        image_stop = str((image.config.get("config") or {}).get("StopSignal") or "")
        c.stop_signal = (
            api_pb2.Signal.Name(config.stop_signal).removeprefix("SIGNAL_")
            if config.stop_signal
            else _signal_name(image_stop)
        )
        c.own_pid_namespace = any(ns["type"] == "pid" for ns in document["linux"]["namespaces"])
        c.uid, c.gid, c.groups = user.uid, user.gid, user.additional_gids
        c.pid = self._spawn_shim(c, tty=config.tty, stdin=config.stdin, stdin_once=config.stdin_once)
        self._save(c)

    def _spawn_shim(self, c: Container, tty: bool, stdin: bool = False, stdin_once: bool = False) -> int:
        state = self._state_dir(c.id)
        state.mkdir(parents=True, exist_ok=True)
        argv = [
            self.python,
            "-m",
            "kubelab_cri.runtime.shim",
            "--id",
            c.id,
            "--bundle",
            str(self.dir / c.id),
            "--state",
            str(state),
            "--log",
            c.log_path or str(state / "output.log"),
            "--runc",
            self.runc.binary,
            "--runc-root",
            str(self.runc.root),
        ]
        if self.runc.systemd_cgroup:
            argv.append("--systemd-cgroup")
        if tty:
            argv.append("--tty")
        if stdin:
            argv.append("--stdin")
        if stdin_once:
            argv.append("--stdin-once")
        with (state / "shim.log").open("ab") as shim_log:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=shim_log,
                start_new_session=True,
                cwd="/",
            )
        assert proc.stdout is not None
        line = _read_line(proc.stdout, SHIM_REPORT_TIMEOUT)
        proc.stdout.close()
        threading.Thread(target=proc.wait, daemon=True).start()  # reaped whenever it ends
        try:
            answer = json.loads(line) if line else {}
        except ValueError:
            answer = {}
        if "pid" in answer:
            return int(answer["pid"])
        error = answer.get("error") or "the container monitor said nothing"
        try:
            tail = (state / "shim.log").read_text(errors="replace").strip().splitlines()[-3:]
        except OSError:
            tail = []
        detail = f" (monitor: {' | '.join(tail)})" if tail else ""
        raise GrpcStatusError(f"CreateContainer {c.name}: runc: {error}{detail}", code=grpc.StatusCode.UNKNOWN)

    def start(self, container_id: str) -> Container:
        with self._locked(container_id):
            c = self.get(container_id)
            state = self.state_of(c)
            if state != CREATED:
                raise FailedPrecondition(
                    f"StartContainer {container_id}: the container is {state.split('_')[1].lower()}, not created"
                )
            started = time.time_ns()  # before: a short-lived process may be done when runc returns
            try:
                self.runc.start(container_id)
            except RuncError as exc:
                raise GrpcStatusError(f"StartContainer {c.name}: {exc}", code=grpc.StatusCode.UNKNOWN) from exc
            c.started_at = started
            self._save(c)
            return c

    def _wait_exit(self, c: Container, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.exit_of(c) is not None:
                return True
            time.sleep(0.05)
        return self.exit_of(c) is not None

    def stop(self, container_id: str, timeout: int) -> None:
        """Stop the container; one that is already stopped, or removed, is fine (the CRI's idempotence)."""
        with self._locked(container_id):
            try:
                c = self.get(container_id)
            except NotFound:
                return
            if self.exit_of(c) is not None or not c.pid:
                return
            every = not c.own_pid_namespace
            try:
                if timeout > 0 and c.started_at:
                    self.runc.kill(c.id, c.stop_signal, every)
                    if self._wait_exit(c, timeout):
                        return
                self.runc.kill(c.id, "KILL", every)
            except RuncError as exc:
                raise GrpcStatusError(f"StopContainer {c.name}: {exc}", code=grpc.StatusCode.UNKNOWN) from exc
            if not self._wait_exit(c, 30):
                raise GrpcStatusError(
                    f"StopContainer {c.name}: still running 30 s after SIGKILL", code=grpc.StatusCode.DEADLINE_EXCEEDED
                )

    def remove(self, container_id: str) -> None:
        try:
            self.get(container_id)
        except NotFound:
            return  # already removed
        self.stop(container_id, 0)
        with self._locked(container_id):
            self._destroy(container_id)
        with self._lock:
            self._locks.pop(container_id, None)

    def _destroy(self, container_id: str) -> None:
        shim = self._shim_pid(container_id)
        if _alive(shim) and not (self._state_dir(container_id) / EXIT_FILE).exists():
            with contextlib.suppress(OSError):
                os.kill(shim, signal.SIGKILL)  # a monitor that never reported (runc create hung)
        with contextlib.suppress(RuncError):
            self.runc.delete(container_id)
        bundle = self.dir / container_id
        rootfs.unmount(bundle)
        shutil.rmtree(bundle, ignore_errors=True)

    # -- in the container ----------------------------------------------------------------------
    def exec_sync(self, container_id: str, cmd: list[str], timeout: int) -> api_pb2.ExecSyncResponse:
        c = self.get(container_id)
        if self.state_of(c) != RUNNING:
            raise FailedPrecondition(f"ExecSync {container_id}: the container is not running")
        document = json.loads((self.dir / c.id / "config.json").read_text())
        process = spec.exec_process(document, cmd)
        state = self._state_dir(c.id)
        token = secrets.token_hex(4)
        process_file, pid_file = state / f"exec-{token}.json", state / f"exec-{token}.pid"
        process_file.write_text(json.dumps(process))
        argv = self.runc.exec_argv(c.id, process_file, pid_file)
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                out, err = proc.communicate(timeout=timeout if timeout > 0 else None)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(OSError, ValueError):
                    os.kill(int(pid_file.read_text()), signal.SIGKILL)
                try:  # runc reaps what it ran; killed first, runc would leave a zombie to the container's init
                    proc.communicate(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.communicate()
                raise GrpcStatusError(
                    f"ExecSync {cmd!r} in {c.name}: timed out after {timeout} s",
                    code=grpc.StatusCode.DEADLINE_EXCEEDED,
                ) from None
        finally:
            process_file.unlink(missing_ok=True)
            pid_file.unlink(missing_ok=True)
        return api_pb2.ExecSyncResponse(
            stdout=out[:EXEC_OUTPUT_LIMIT], stderr=err[:EXEC_OUTPUT_LIMIT], exit_code=proc.returncode
        )

    def _running(self, container_id: str, call: str) -> Container:
        c = self.get(container_id)
        if self.state_of(c) != RUNNING:
            raise FailedPrecondition(f"{call} {container_id}: the container is not running")
        return c

    def stream_exec(
        self, container_id: str, cmd: list[str], tty: bool, size: tuple[int, int] | None = None
    ) -> tuple[list[str], Path]:
        """``runc exec`` argv for a streamed command, and its process file (the caller removes it);
        ``size`` (width, height) is the terminal's size when the command starts."""
        c = self._running(container_id, "Exec")
        document = json.loads((self.dir / c.id / "config.json").read_text())
        process = spec.exec_process(document, cmd, tty=tty)
        if tty and size is not None and size[0] > 0 and size[1] > 0:
            process["consoleSize"] = {"width": size[0], "height": size[1]}
        process_file = self._state_dir(c.id) / f"stream-{secrets.token_hex(4)}.json"
        process_file.write_text(json.dumps(process))
        return self.runc.argv("exec", "--process", str(process_file), c.id), process_file

    def stream_exec_allowed(self, container_id: str) -> None:
        self._running(container_id, "Exec")

    def attach_socket(self, container_id: str) -> str:
        """The path to the container monitor's attach socket (through its cwd: a short path)."""
        c = self._running(container_id, "Attach")
        shim = self._shim_pid(c.id)
        if not _alive(shim):
            raise FailedPrecondition(f"Attach {container_id}: its monitor is gone")
        return f"/proc/{shim}/cwd/{ATTACH_NAME}"

    def update_resources(self, container_id: str, resources: api_pb2.LinuxContainerResources) -> None:
        with self._locked(container_id):
            c = self.get(container_id)
            if self.state_of(c) not in (CREATED, RUNNING):
                raise FailedPrecondition(f"UpdateContainerResources {container_id}: the container is not running")
            wanted = spec.resources(resources)
            wanted.pop("devices", None)  # devices are not updated
            try:
                self.runc.update(c.id, wanted, self._state_dir(c.id) / "resources.json")
            except RuncError as exc:
                raise GrpcStatusError(
                    f"UpdateContainerResources {c.name}: {exc}", code=grpc.StatusCode.UNKNOWN
                ) from exc
            bundle = self.dir / c.id / "config.json"  # the bundle keeps what the container now has
            document = json.loads(bundle.read_text())
            document["linux"]["resources"].update(wanted)
            bundle.write_text(json.dumps(document, indent=1))

    def reopen_log(self, container_id: str) -> None:
        c = self.get(container_id)
        if self.state_of(c) != RUNNING:
            raise FailedPrecondition(f"ReopenContainerLog {container_id}: the container is not running")
        shim = self._shim_pid(c.id)
        if not _alive(shim):
            raise FailedPrecondition(f"ReopenContainerLog {container_id}: its monitor is gone")
        os.kill(shim, signal.SIGUSR1)
        deadline = time.monotonic() + 5
        while c.log_path and not os.path.exists(c.log_path) and time.monotonic() < deadline:
            time.sleep(0.02)

    # -- answers -------------------------------------------------------------------------------
    def status(self, container_id: str) -> api_pb2.ContainerStatus:
        c = self.get(container_id)
        ended = self.exit_of(c)
        state = self._state(c, ended)
        return api_pb2.ContainerStatus(
            id=c.id,
            metadata=c.metadata(),
            state=api_pb2.ContainerState.Value(state),
            created_at=c.created_at,
            started_at=c.started_at,
            finished_at=ended.finished_at if ended else 0,
            exit_code=ended.exit_code if ended else 0,
            reason=ended.why if ended else "",
            message=ended.message if ended else "",
            image=api_pb2.ImageSpec(image=c.image),
            image_ref=c.image_ref,
            image_id=c.image_id,
            labels=c.labels,
            annotations=c.annotations,
            mounts=[api_pb2.Mount(**m) for m in c.mounts],
            log_path=c.log_path,
            user=api_pb2.ContainerUser(
                linux=api_pb2.LinuxContainerUser(uid=c.uid, gid=c.gid, supplemental_groups=[c.gid, *c.groups])
            ),
        )

    def of_sandbox(self, sandbox_id: str) -> list[Container]:
        return [c for c in self.all() if c.sandbox_id == sandbox_id]

    def images_in_use(self) -> set[str]:
        return {c.image_id for c in self.all()}

    def stats(self, container_id: str) -> api_pb2.ContainerStats:
        c = self.get(container_id)
        attributes = api_pb2.ContainerAttributes(
            id=c.id, metadata=c.metadata(), labels=c.labels, annotations=c.annotations
        )
        pid = c.pid if self.state_of(c) == RUNNING else None
        return stats.container_stats(attributes, pid, self.dir / c.id / "upper", str(self.dir))

    def list_stats(self, wanted: api_pb2.ContainerStatsFilter | None) -> list[api_pb2.ContainerStats]:
        out = []
        for c in self.all():
            if wanted is None or _selected(c, wanted):
                with contextlib.suppress(NotFound):  # removed meanwhile
                    out.append(self.stats(c.id))
        return out

    def list(self, wanted: api_pb2.ContainerFilter | None) -> list[api_pb2.Container]:
        out = []
        for c in self.all():
            state = self.state_of(c)
            if wanted is not None:
                if not _selected(c, wanted):
                    continue
                if wanted.HasField("state") and api_pb2.ContainerState.Value(state) != wanted.state.state:
                    continue
            out.append(
                api_pb2.Container(
                    id=c.id,
                    pod_sandbox_id=c.sandbox_id,
                    metadata=c.metadata(),
                    image=api_pb2.ImageSpec(image=c.image),
                    image_ref=c.image_ref,
                    image_id=c.image_id,
                    state=api_pb2.ContainerState.Value(state),
                    created_at=c.created_at,
                    labels=c.labels,
                    annotations=c.annotations,
                )
            )
        return out


def _signal_name(text: str) -> str:
    if not text:
        return "SIGTERM"
    if text.isdigit():
        return signal.Signals(int(text)).name
    return text if text.startswith("SIG") else f"SIG{text}"


def _read_line(stream: Any, timeout: float) -> str:
    """One line from a pipe, or "" after ``timeout`` seconds."""
    box: list[bytes] = []
    reader = threading.Thread(target=lambda: box.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return box[0].decode(errors="replace").strip() if box else ""


def _selected(c: Container, wanted: api_pb2.ContainerFilter | api_pb2.ContainerStatsFilter) -> bool:
    """What ListContainers and ListContainerStats filter alike: exact ID, sandbox, every label."""
    if wanted.id and c.id != wanted.id:
        return False
    if wanted.pod_sandbox_id and c.sandbox_id != wanted.pod_sandbox_id:
        return False
    return all(c.labels.get(k) == v for k, v in wanted.label_selector.items())
