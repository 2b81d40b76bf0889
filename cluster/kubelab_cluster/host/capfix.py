"""capfix: an OCI runtime wrapper that removes the capabilities this host cannot grant, then execs runc.

On a host whose capability bounding set lacks a capability (here ``CAP_SYS_RESOURCE``),
``docker run --privileged`` fails inside runc with ``unable to apply caps: operation not
permitted``: a privileged container asks for every capability the kernel knows. dockerd
runs this file instead of runc (it is registered as the default runtime in
/etc/docker/daemon.json). For ``create``/``run`` it removes the capabilities from every
set of the bundle's ``config.json`` (``--bundle``/``-b``, default: the working
directory); for ``exec`` (``docker exec``) from the process spec file given by
``--process``/``-p``. Then it replaces itself with the real runc, with the same
arguments, environment, working directory and open file descriptors. Every other runc
command passes through untouched.

``kubelab_cluster.host.runtime_wrapper`` installs this module's source verbatim, after
a ``#!/usr/bin/python3 -IS`` line, with a footer naming the real runc and the
capabilities to drop. So: standard library only, nothing written to stdout (runc's
output is parsed by its caller), and code that runs on the host's own python3 (3.7+).
"""

from __future__ import annotations

import json
import os
import sys

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing would slow every runc call
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any, NoReturn

CAPABILITY_SETS = ("bounding", "effective", "inheritable", "permitted", "ambient")

# runc's global flags that take a value (urfave/cli: ``--root X`` or ``--root=X``).
_GLOBAL_VALUE_FLAGS = frozenset({"log", "log-format", "root", "criu", "rootless"})
_CREATE_VALUE_FLAGS = frozenset({"bundle", "b", "console-socket", "pid-file", "preserve-fds", "pidfd-socket"})
_COMMAND_VALUE_FLAGS = {
    "create": _CREATE_VALUE_FLAGS,
    "run": _CREATE_VALUE_FLAGS,
    "exec": frozenset(
        {
            "console-socket",
            "pidfd-socket",
            "cwd",
            "env",
            "e",
            "process",
            "p",
            "pid-file",
            "process-label",
            "apparmor",
            "user",
            "u",
            "additional-gids",
            "g",
            "preserve-fds",
            "cgroup",
            "cap",
            "c",
        }
    ),
}
_SPEC_FLAG = {"create": ("bundle", "b"), "run": ("bundle", "b"), "exec": ("process", "p")}

CONFIG = "config"  # a bundle's config.json: capabilities under "process"
PROCESS = "process"  # an exec process spec: capabilities at the top level


def _flag(arg: str) -> tuple[str, str | None] | None:
    """``--name=value`` -> (name, value); ``-n`` -> (n, None); a positional -> None."""
    if not arg.startswith("-") or arg in ("-", "--"):
        return None
    name, eq, value = arg.lstrip("-").partition("=")
    return name, (value if eq else None)


def find_spec(argv: Sequence[str], cwd: str) -> tuple[str, str] | None:
    """The spec file a runc command line reads: ``(CONFIG | PROCESS, path)``, or None.

    ``argv`` is the whole command line (``argv[0]`` is the program). Flags stop at
    the first positional argument (the container id), as in runc.
    """
    args = list(argv[1:])
    i = 0
    while i < len(args):
        parsed = _flag(args[i])
        if parsed is None:
            break
        i += 1
        if parsed[0] in _GLOBAL_VALUE_FLAGS and parsed[1] is None:
            i += 1
    if i >= len(args) or args[i] not in _SPEC_FLAG:
        return None
    command = args[i]
    value_flags, wanted = _COMMAND_VALUE_FLAGS[command], _SPEC_FLAG[command]
    found: str | None = None
    i += 1
    while i < len(args):
        parsed = _flag(args[i])
        if parsed is None:
            break
        name, value = parsed
        i += 1
        if name in value_flags and value is None:
            if i >= len(args):
                break
            value = args[i]
            i += 1
        if name in wanted:
            found = value
    if command == "exec":
        return (PROCESS, os.path.join(cwd, found)) if found else None
    bundle = os.path.join(cwd, found) if found else cwd
    return CONFIG, os.path.join(bundle, "config.json")


def strip_capabilities(spec: dict[str, Any], kind: str, drop: Iterable[str]) -> bool:
    """Remove ``drop`` from every capability set of ``spec`` in place; True if anything changed."""
    process = spec.get("process") if kind == CONFIG else spec
    if not isinstance(process, dict):
        return False
    caps = process.get("capabilities")
    if not isinstance(caps, dict):
        return False
    dropped = frozenset(drop)
    changed = False
    for name in CAPABILITY_SETS:
        values = caps.get(name)
        if isinstance(values, list):
            kept = [c for c in values if c not in dropped]
            if len(kept) != len(values):
                caps[name] = kept
                changed = True
    return changed


def rewrite_file(path: str, kind: str, drop: Iterable[str]) -> bool:
    """Rewrite the spec file at ``path`` without ``drop`` (atomically, same mode); True if changed."""
    with open(path, "rb") as fh:
        spec = json.load(fh)
    if not strip_capabilities(spec, kind, drop):
        return False
    st = os.stat(path)
    tmp = f"{path}.capfix-{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, st.st_mode & 0o7777)
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(spec, out, separators=(",", ":"))
        if (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
            os.chown(tmp, st.st_uid, st.st_gid)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True


def main(real_runc: str, drop: Iterable[str], argv: Sequence[str] | None = None) -> NoReturn:
    """Fix the spec the command line names (if any), then exec the real runc."""
    args = list(sys.argv if argv is None else argv)
    try:
        target = find_spec(args, os.getcwd())
        if target is not None:
            rewrite_file(target[1], target[0], drop)
    except (OSError, ValueError) as exc:
        # runc itself reports a missing or broken spec; never block it here.
        sys.stderr.write(f"runc-capfix: warning: {exc}\n")
        sys.stderr.flush()
    try:
        os.execv(real_runc, [real_runc, *args[1:]])
    except OSError as exc:
        sys.stderr.write(f"runc-capfix: cannot run {real_runc}: {exc}\n")
        sys.stderr.flush()
        os._exit(127)
