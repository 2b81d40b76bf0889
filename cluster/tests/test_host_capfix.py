from __future__ import annotations

import copy
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kubelab_cluster.host import runtime_wrapper
from kubelab_cluster.host.capfix import CONFIG, PROCESS, find_spec, rewrite_file, strip_capabilities

DROP = ["CAP_SYS_RESOURCE"]
ALL = ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_SYS_RESOURCE", "CAP_NET_ADMIN"]
SETS = ("bounding", "effective", "inheritable", "permitted", "ambient")


def config_json() -> dict[str, Any]:
    """A trimmed privileged bundle config.json as dockerd writes it."""
    return {
        "ociVersion": "1.0.2-dev",
        "process": {
            "user": {"uid": 0, "gid": 0},
            "args": ["/bin/busybox", "true"],
            "capabilities": {name: list(ALL) for name in SETS},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
        },
        "root": {"path": "rootfs"},
        "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]},
    }


def process_json() -> dict[str, Any]:
    """A `runc exec --process` spec: the Process object itself."""
    return {"args": ["/bin/sh"], "cwd": "/", "capabilities": {name: list(ALL) for name in SETS}}


# --- spec rewriting ---------------------------------------------------------------


def test_strip_config_removes_from_every_set_and_keeps_the_rest() -> None:
    spec = config_json()
    assert strip_capabilities(spec, CONFIG, DROP) is True
    for name in SETS:
        assert spec["process"]["capabilities"][name] == ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_NET_ADMIN"]
    expected = config_json()
    expected["process"]["capabilities"] = spec["process"]["capabilities"]
    assert spec == expected
    assert strip_capabilities(spec, CONFIG, DROP) is False  # already clean


def test_strip_process_spec() -> None:
    spec = process_json()
    assert strip_capabilities(spec, PROCESS, DROP) is True
    assert all("CAP_SYS_RESOURCE" not in spec["capabilities"][n] for n in SETS)
    assert spec["args"] == ["/bin/sh"]


def test_strip_partial_and_missing_sets() -> None:
    spec = config_json()
    spec["process"]["capabilities"] = {"bounding": list(ALL), "effective": ["CAP_CHOWN"]}
    assert strip_capabilities(spec, CONFIG, DROP) is True
    assert spec["process"]["capabilities"] == {"bounding": ALL[:2] + ALL[3:], "effective": ["CAP_CHOWN"]}
    no_caps = {"process": {"args": ["x"]}}
    assert strip_capabilities(no_caps, CONFIG, DROP) is False
    assert strip_capabilities({}, CONFIG, DROP) is False
    assert strip_capabilities({"args": ["x"]}, PROCESS, DROP) is False


def test_strip_several_capabilities() -> None:
    spec = process_json()
    strip_capabilities(spec, PROCESS, ["CAP_SYS_RESOURCE", "CAP_NET_ADMIN"])
    assert spec["capabilities"]["permitted"] == ["CAP_CHOWN", "CAP_SYS_ADMIN"]


def test_rewrite_file_keeps_mode_and_leaves_clean_files_alone(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config_json(), indent=1))
    path.chmod(0o600)
    assert rewrite_file(str(path), CONFIG, DROP) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert "CAP_SYS_RESOURCE" not in data["process"]["capabilities"]["bounding"]
    mtime = path.stat().st_mtime_ns
    text = path.read_text()
    assert rewrite_file(str(path), CONFIG, DROP) is False
    assert path.read_text() == text and path.stat().st_mtime_ns == mtime
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]


# --- argv parsing ----------------------------------------------------------------

CWD = "/run/cwd"
SHIM_GLOBALS = ["--root", "/run/containerd/runc/moby", "--log", "/run/x/log.json", "--log-format", "json"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["create", "--bundle", "/b", "id"], (CONFIG, "/b/config.json")),
        (["create", "-b", "/b", "id"], (CONFIG, "/b/config.json")),
        (["create", "--bundle=/b", "id"], (CONFIG, "/b/config.json")),
        (["create", "-b=/b", "id"], (CONFIG, "/b/config.json")),
        (["run", "--bundle", "/b", "id"], (CONFIG, "/b/config.json")),
        (["create", "id"], (CONFIG, f"{CWD}/config.json")),
        (["create", "--bundle", "rel", "id"], (CONFIG, f"{CWD}/rel/config.json")),
        (["create", "--bundle=", "id"], (CONFIG, f"{CWD}/config.json")),
        (
            [*SHIM_GLOBALS, "create", "--bundle", "/b", "--pid-file", "/p", "--console-socket", "/s", "id"],
            (CONFIG, "/b/config.json"),
        ),
        (["--root=/r", "--systemd-cgroup", "create", "--pid-file", "/p", "-b", "/b", "id"], (CONFIG, "/b/config.json")),
        (["--debug", "run", "--detach", "--pid-file", "/p", "id"], (CONFIG, f"{CWD}/config.json")),
        (["exec", "--process", "/tmp/p.json", "--detach", "id"], (PROCESS, "/tmp/p.json")),
        (["exec", "-p", "/tmp/p.json", "id"], (PROCESS, "/tmp/p.json")),
        (["exec", "--process=/tmp/p.json", "id"], (PROCESS, "/tmp/p.json")),
        (
            [*SHIM_GLOBALS, "exec", "--process", "/tmp/p.json", "--detach", "--pid-file", "/p", "id"],
            (PROCESS, "/tmp/p.json"),
        ),
        (["exec", "-t", "--cwd", "/", "-e", "A=1", "-p", "p.json", "id"], (PROCESS, f"{CWD}/p.json")),
        # without --process, exec takes the command from argv: nothing to rewrite
        (["exec", "id", "ls", "-p", "/x"], None),
        (["exec", "--user", "0:0", "id", "sh"], None),
        # a bundle flag after the container id is the container's business, not runc's
        (["run", "id", "-b", "/b"], (CONFIG, f"{CWD}/config.json")),
        (["state", "id"], None),
        (["--root", "/r", "delete", "--force", "id"], None),
        (["--version"], None),
        ([], None),
        # a global flag's value that looks like a command is not the command
        (["--root", "create", "state", "id"], None),
    ],
)
def test_find_spec(args: list[str], expected: tuple[str, str] | None) -> None:
    assert find_spec(["runc-capfix", *args], CWD) == expected


def test_rendered_script_compiles_and_names_runc() -> None:
    text = runtime_wrapper.render(Path("/usr/sbin/runc"), ["CAP_SYS_RESOURCE"], Path("/usr/bin/python3"))
    assert text.startswith("#!/usr/bin/python3 -IS\n")
    assert "main('/usr/sbin/runc', ('CAP_SYS_RESOURCE',))" in text
    compile(text, "runc-capfix", "exec")
    with pytest.raises(runtime_wrapper.WrapperError):
        runtime_wrapper.render(Path("/usr/sbin/runc"), [], Path("/usr/bin/python3"))


def test_install_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "libexec" / "runc-capfix"
    text = runtime_wrapper.render(Path("/usr/sbin/runc"), DROP, Path("/usr/bin/python3"))
    assert runtime_wrapper.install(text, path) is True
    assert os.access(path, os.X_OK)
    assert runtime_wrapper.state(text, path).current
    assert runtime_wrapper.install(text, path) is False
    assert not runtime_wrapper.state(text + "#", path).current


# --- the real wrapper in front of a fake runc --------------------------------------

FAKE_RUNC = """\
#!/bin/sh
# records its argv, cwd, env and an inherited fd, echoes stdin, exits 7
{ printf '%s\\n' "$@"; } > "$FAKE_RUNC_LOG.argv"
pwd > "$FAKE_RUNC_LOG.cwd"
if [ -n "$FAKE_FD" ] && [ -e "/proc/$$/fd/$FAKE_FD" ]; then echo yes > "$FAKE_RUNC_LOG.fd"; fi
cat
echo "to stderr" >&2
exit 7
"""


def _python() -> Path:
    system = Path("/usr/bin/python3")
    return system if os.access(system, os.X_OK) else Path(sys.executable)


@pytest.fixture
def wrapper(tmp_path: Path) -> Path:
    fake = tmp_path / "fake-runc"
    fake.write_text(FAKE_RUNC)
    fake.chmod(0o755)
    path = tmp_path / "runc-capfix"
    runtime_wrapper.install(runtime_wrapper.render(fake, DROP, _python()), path)
    return path


def _run(wrapper: Path, args: list[str], tmp_path: Path, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    log = tmp_path / "log"
    read_fd, write_fd = os.pipe()
    try:
        return subprocess.run(
            [str(wrapper), *args],
            input=b"stdin payload\n\x00binary\xff",
            capture_output=True,
            cwd=cwd or tmp_path,
            env={**os.environ, "FAKE_RUNC_LOG": str(log), "FAKE_FD": str(read_fd)},
            pass_fds=(read_fd,),
            timeout=30,
            check=False,
        )
    finally:
        os.close(read_fd)
        os.close(write_fd)


def _argv(tmp_path: Path) -> list[str]:
    return (tmp_path / "log.argv").read_text().splitlines()


@pytest.mark.slow
def test_wrapper_create_rewrites_bundle_and_passes_everything_through(wrapper: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "config.json").write_text(json.dumps(config_json()))
    args = [*SHIM_GLOBALS, "create", "--bundle", str(bundle), "--pid-file", "/p", "ctr-1"]
    proc = _run(wrapper, args, tmp_path)
    assert proc.returncode == 7
    assert proc.stdout == b"stdin payload\n\x00binary\xff"
    assert proc.stderr == b"to stderr\n"
    assert _argv(tmp_path) == args
    assert (tmp_path / "log.cwd").read_text().strip() == str(tmp_path)
    assert (tmp_path / "log.fd").read_text().strip() == "yes", "an inherited fd must reach runc"
    caps = json.loads((bundle / "config.json").read_text())["process"]["capabilities"]
    assert all(caps[n] == ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_NET_ADMIN"] for n in SETS)


@pytest.mark.slow
def test_wrapper_default_bundle_is_cwd(wrapper: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "cwd-bundle"
    bundle.mkdir()
    (bundle / "config.json").write_text(json.dumps(config_json()))
    proc = _run(wrapper, ["run", "--detach", "ctr-2"], tmp_path, cwd=bundle)
    assert proc.returncode == 7
    assert _argv(tmp_path) == ["run", "--detach", "ctr-2"]
    assert "CAP_SYS_RESOURCE" not in (bundle / "config.json").read_text()


@pytest.mark.slow
def test_wrapper_exec_rewrites_process_spec(wrapper: Path, tmp_path: Path) -> None:
    spec = tmp_path / "runc-process123"
    spec.write_text(json.dumps(process_json()))
    args = ["--root", "/r", "exec", "--process", str(spec), "--detach", "ctr-3"]
    proc = _run(wrapper, args, tmp_path)
    assert proc.returncode == 7 and proc.stdout.startswith(b"stdin payload")
    assert _argv(tmp_path) == args
    data = json.loads(spec.read_text())
    expected = copy.deepcopy(process_json())
    for n in SETS:
        expected["capabilities"][n].remove("CAP_SYS_RESOURCE")
    assert data == expected


@pytest.mark.slow
def test_wrapper_passes_other_commands_and_survives_a_broken_spec(wrapper: Path, tmp_path: Path) -> None:
    proc = _run(wrapper, ["state", "ctr-4"], tmp_path)
    assert (proc.returncode, proc.stdout, _argv(tmp_path)) == (7, b"stdin payload\n\x00binary\xff", ["state", "ctr-4"])
    proc = _run(wrapper, ["create", "--bundle", str(tmp_path / "missing"), "ctr-5"], tmp_path)
    assert proc.returncode == 7, "a missing config.json is runc's error to report"
    assert b"runc-capfix: warning" in proc.stderr
    assert proc.stdout == b"stdin payload\n\x00binary\xff"
