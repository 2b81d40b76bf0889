"""Exec a CNI plugin the way a container runtime does (libcni's ``invoke.ExecPlugin``).

The spec's exec protocol: the plugin runs with ``CNI_COMMAND``, ``CNI_CONTAINERID``,
``CNI_NETNS``, ``CNI_IFNAME``, ``CNI_ARGS`` and ``CNI_PATH`` in its environment and the
network configuration, as JSON, on stdin. Exit status 0: stdout holds the result (nothing
for DEL, CHECK, STATUS and GC). Anything else: stdout holds the error document
``{"cniVersion", "code", "msg", "details"}``.

- :func:`exec_plugin`: one execution and everything it produced (:class:`Call`); a
  failing plugin is not an exception here (tests and benchmarks look at rc and stdout).
- :func:`invoke`: the runtime's call: the parsed result, or a :class:`PluginError` with
  the plugin's ``code``, ``msg`` and ``details``.
- :func:`find_in_path`: the plugin executable for a configuration's ``type`` in ``CNI_PATH``.

Standard library only.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict, Unpack

from kubelab_kit.errors import OUTPUT_LINES, KubelabError

Stdin = bytes | str | Mapping[str, Any]
CniArgs = str | Mapping[str, str]

DEFAULT_TIMEOUT = 120.0


def _indented(label: str, text: str) -> str:
    """``  label: first line`` and the rest (at most ``OUTPUT_LINES``) indented below it."""
    lines = text.strip().splitlines()
    if len(lines) <= 1:
        return f"  {label}: {text.strip()}"
    return "\n".join([f"  {label}:", *(f"    {line}" for line in lines[-OUTPUT_LINES:])])


def _exit_status(rc: int | None) -> str:
    if rc is None:
        return "no exit status"
    if rc < 0:
        try:
            return f"killed by {signal.Signals(-rc).name}"
        except ValueError:
            return f"killed by signal {-rc}"
    return f"exit status {rc}"


class PluginError(KubelabError):
    """A plugin call that failed: the spec's error (``code``, ``msg``, ``details``) and how the process ended.

    ``code`` is the plugin's own when it wrote an error document; 0 when it did not (it
    crashed, timed out, wrote something else), as libcni does.
    """

    area = "cni"

    def __init__(
        self,
        plugin: str,
        command: str | None,
        code: int,
        msg: str,
        details: str = "",
        *,
        cni_version: str = "",
        rc: int | None = None,
        stderr: bytes | str = b"",
        fix: str = "",
    ) -> None:
        self.plugin = plugin
        self.cni_command = command or ""
        self.code = code
        self.msg = msg
        self.details = details
        self.cni_version = cni_version
        self.rc = rc
        self.stderr = stderr if isinstance(stderr, str) else stderr.decode(errors="replace")
        argv = [f"CNI_COMMAND={command}", plugin] if command else [plugin]
        super().__init__(msg, fix=fix, command=argv, output=self.stderr)

    def headline(self) -> str:
        what = " ".join(filter(None, [os.path.basename(self.plugin) or "plugin", self.cni_command]))
        code = f"error {self.code}: " if self.code else ""
        return f"{what} failed ({_exit_status(self.rc)}): {code}{self.msg}"

    def render(self) -> str:
        text = super().render()
        if not self.details.strip():
            return text
        head, _, rest = text.partition("\n")
        return "\n".join(part for part in (head, _indented("details", self.details), rest) if part)

    def document(self) -> dict[str, Any]:
        """The spec's error document, as the plugin wrote it (``cniVersion`` left out when it had none)."""
        doc: dict[str, Any] = {"cniVersion": self.cni_version} if self.cni_version else {}
        doc.update(code=self.code, msg=self.msg, details=self.details)
        return doc

    def __reduce__(self) -> tuple[Any, ...]:
        args = (self.plugin, self.cni_command, self.code, self.msg, self.details)
        return (_rebuild_plugin_error, (args, self.__dict__))


def _rebuild_plugin_error(args: tuple[Any, ...], state: dict[str, Any]) -> PluginError:
    error = PluginError(*args)
    error.__dict__.update(state)
    return error


class PluginNotFound(KubelabError):
    """No executable for a configuration's ``type`` in any ``CNI_PATH`` directory."""

    area = "cni"

    def __init__(self, plugin_type: str, paths: Sequence[str], reason: str = "") -> None:
        self.plugin_type = plugin_type
        self.paths = list(paths)
        where = ":".join(self.paths) or "(empty)"
        super().__init__(
            reason or f"no plugin {plugin_type!r} in CNI_PATH {where}",
            fix=f"put an executable {plugin_type!r} into one of those directories, or fix the configuration's type",
        )


@dataclass
class Call:
    """One plugin execution: exit status, output, wall time, and stdout decoded (``None`` if it is not JSON)."""

    rc: int
    stdout: bytes
    stderr: bytes
    seconds: float
    document: Any = field(default=None)
    plugin: str = ""
    command: str | None = None

    @property
    def ok(self) -> bool:
        return self.rc == 0

    def error(self) -> PluginError | None:
        """``None`` for a successful call; else the error the plugin reported (or what it did instead)."""
        if self.rc == 0:
            return None
        doc = self.document
        code = doc.get("code") if isinstance(doc, dict) else None
        if isinstance(code, int) and not isinstance(code, bool):
            assert isinstance(doc, dict)
            return PluginError(
                self.plugin,
                self.command,
                code,
                str(doc.get("msg") or ""),
                str(doc.get("details") or ""),
                cni_version=str(doc.get("cniVersion") or ""),
                rc=self.rc,
                stderr=self.stderr,
            )
        fix = "run the plugin by hand with the same CNI_* environment and stdin to see why"
        if self.stdout.strip():
            msg = f"its output is not an error document: {self.stdout[:200]!r}"
        elif self.stderr.strip():
            msg = "no error document on stdout (its stderr is below)"
        else:
            msg = "no error message"
        return PluginError(self.plugin, self.command, 0, msg, rc=self.rc, stderr=self.stderr, fix=fix)

    def result(self) -> dict[str, Any] | None:
        """The result document (``None`` when the plugin printed nothing); raises :class:`PluginError`."""
        error = self.error()
        if error is not None:
            raise error
        if not self.stdout.strip():
            return None
        if not isinstance(self.document, dict):
            raise PluginError(
                self.plugin,
                self.command,
                0,
                f"it succeeded, but its result is not a JSON object: {self.stdout[:200]!r}",
                rc=self.rc,
                stderr=self.stderr,
            )
        return self.document


def _cni_args(value: CniArgs | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return ";".join(f"{k}={v}" for k, v in value.items())


def plugin_env(
    command: str | None,
    *,
    container_id: str | None = None,
    netns: str | None = None,
    ifname: str | None = "eth0",
    cni_args: CniArgs | None = None,
    cni_path: Sequence[str] = (),
    extra_env: Mapping[str, str] | None = None,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The plugin's environment: ``base`` (default: ours) without any ``CNI_*``, then the given ones.

    ``None`` leaves a variable unset (a test of a plugin's checks needs that); ``extra_env`` comes last.
    """
    env = {k: v for k, v in (os.environ if base is None else base).items() if not k.startswith("CNI_")}
    for key, value in (
        ("CNI_COMMAND", command),
        ("CNI_CONTAINERID", container_id),
        ("CNI_NETNS", netns),
        ("CNI_IFNAME", ifname),
        ("CNI_ARGS", _cni_args(cni_args)),
        ("CNI_PATH", ":".join(cni_path) if cni_path else None),
    ):
        if value is not None:
            env[key] = value
    env.update(extra_env or {})
    return env


def _stdin_bytes(stdin: Stdin) -> bytes:
    if isinstance(stdin, Mapping):
        return json.dumps(stdin).encode()
    return stdin.encode() if isinstance(stdin, str) else stdin


def exec_plugin(
    binary: str,
    command: str | None,
    stdin: Stdin,
    *,
    container_id: str | None = None,
    netns: str | None = None,
    ifname: str | None = "eth0",
    cni_args: CniArgs | None = None,
    cni_path: Sequence[str] = (),
    prefix: Sequence[str] = (),
    extra_env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Call:
    """Run ``binary`` once (after ``prefix``, e.g. :meth:`Netns.prefix() <kubelab_kit.cni.netns.Netns.prefix>`
    to run it inside a namespace) with the config ``stdin`` (bytes, text, or a mapping sent as JSON).

    A plugin that fails is a :class:`Call` with ``rc != 0``; one that cannot be started, or
    does not finish within ``timeout`` seconds, raises :class:`PluginError` (code 0).
    """
    env = plugin_env(
        command,
        container_id=container_id,
        netns=netns,
        ifname=ifname,
        cni_args=cni_args,
        cni_path=cni_path,
        extra_env=extra_env,
    )
    argv = [*prefix, binary]
    started = time.perf_counter()
    try:
        proc = subprocess.run(argv, input=_stdin_bytes(stdin), env=env, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise PluginError(
            binary,
            command,
            0,
            f"no answer within {timeout:g} s",
            stderr=exc.stderr or b"",
            fix="the plugin hangs: run it by hand with the same CNI_* environment and stdin",
        ) from exc
    except OSError as exc:
        raise PluginError(
            binary,
            command,
            0,
            f"cannot start {argv[0]}: {exc.strerror or exc}",
            fix="check that the plugin exists and is executable",
        ) from exc
    seconds = time.perf_counter() - started
    try:
        document = json.loads(proc.stdout) if proc.stdout.strip() else None
    except ValueError:
        document = None
    return Call(proc.returncode, proc.stdout, proc.stderr, seconds, document, binary, command)


class InvokeOptions(TypedDict, total=False):
    """The keyword arguments :func:`invoke` passes on to :func:`exec_plugin`."""

    container_id: str | None
    netns: str | None
    ifname: str | None
    cni_args: CniArgs | None
    cni_path: Sequence[str]
    prefix: Sequence[str]
    extra_env: Mapping[str, str] | None
    timeout: float


def invoke(binary: str, command: str, stdin: Stdin, **options: Unpack[InvokeOptions]) -> dict[str, Any] | None:
    """Call the plugin as a runtime does (options as :func:`exec_plugin`'s): its result (``None``
    when it prints none, as for DEL), or :class:`PluginError` with the spec's ``code``/``msg``/``details``."""
    return exec_plugin(binary, command, stdin, **options).result()


def find_in_path(plugin_type: str, paths: Sequence[str]) -> str:
    """The executable named ``plugin_type`` in the first of ``paths`` holding one (libcni's ``FindInPath``)."""
    if not plugin_type or "/" in plugin_type:
        raise PluginNotFound(plugin_type, paths, f"plugin type {plugin_type!r} is not a plain file name")
    for directory in paths:
        candidate = os.path.join(directory, plugin_type)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise PluginNotFound(plugin_type, paths)
