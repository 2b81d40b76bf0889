"""kubelab_kit.cni: exec'ing a plugin as a runtime does, against tiny fake plugins (no root needed),
and named network namespaces (root only)."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from kubelab_kit.cni import Netns, PluginError, PluginNotFound, exec_plugin, find_in_path, invoke, unique_name
from kubelab_kit.errors import KubelabError

# Echoes what a plugin is given: its CNI_* environment and its stdin, as a result document.
ECHO = """
import json, os, sys
stdin = sys.stdin.read()
env = {k: v for k, v in os.environ.items() if k.startswith("CNI_")}
print(json.dumps({"cniVersion": "1.1.0", "env": env, "stdin": json.loads(stdin) if stdin else None}))
"""

ERROR_DOC = {"cniVersion": "1.0.0", "code": 7, "msg": "invalid network config", "details": "mtu 20 < 68"}


def plugin(tmp_path: Path, name: str, body: str) -> str:
    """An executable Python script ``name`` in ``tmp_path`` (run by this interpreter)."""
    path = tmp_path / name
    path.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    path.chmod(0o755)
    return str(path)


def failing(tmp_path: Path, *, stdout: str = "", stderr: str = "", rc: int = 1) -> str:
    return plugin(
        tmp_path,
        "failing",
        f"import sys\nsys.stdout.write({stdout!r})\nsys.stderr.write({stderr!r})\nsys.exit({rc})\n",
    )


CONF = {"cniVersion": "1.1.0", "name": "net", "type": "echo"}


def test_invoke_passes_the_cni_environment_and_the_config_on_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CNI_STALE", "from the caller")  # a runtime's own CNI_* never leak into the plugin
    monkeypatch.setenv("KEEP_ME", "1")
    result = invoke(
        plugin(tmp_path, "echo", ECHO + "print(os.environ.get('KEEP_ME'), file=sys.stderr)\n"),
        "ADD",
        CONF,
        container_id="c1",
        netns="/var/run/netns/x",
        ifname="eth1",
        cni_args={"K8S_POD_NAME": "web", "IgnoreUnknown": "1"},
        cni_path=["/opt/cni/bin", "/usr/lib/cni"],
    )
    assert result is not None
    assert result["env"] == {
        "CNI_COMMAND": "ADD",
        "CNI_CONTAINERID": "c1",
        "CNI_NETNS": "/var/run/netns/x",
        "CNI_IFNAME": "eth1",
        "CNI_ARGS": "K8S_POD_NAME=web;IgnoreUnknown=1",
        "CNI_PATH": "/opt/cni/bin:/usr/lib/cni",
    }
    assert result["stdin"] == CONF


def test_none_leaves_a_variable_unset_and_extra_env_comes_last(tmp_path: Path) -> None:
    call = exec_plugin(
        plugin(tmp_path, "echo", ECHO),
        "VERSION",
        b'{"cniVersion": "1.1.0"}',
        ifname=None,
        extra_env={"CNI_IFNAME": "forced"},
    )
    assert call.ok and call.seconds > 0
    assert call.document["env"] == {"CNI_COMMAND": "VERSION", "CNI_IFNAME": "forced"}
    assert call.document["stdin"] == {"cniVersion": "1.1.0"}
    assert exec_plugin(plugin(tmp_path, "echo", ECHO), None, "{}").document["env"] == {"CNI_IFNAME": "eth0"}


def test_an_error_document_becomes_a_structured_error(tmp_path: Path) -> None:
    binary = failing(tmp_path, stdout=json.dumps(ERROR_DOC), stderr="plugin: mtu too small\n")
    call = exec_plugin(binary, "ADD", CONF, container_id="c1", netns="/x")
    assert not call.ok and call.rc == 1 and call.document == ERROR_DOC  # exec_plugin itself never raises
    with pytest.raises(PluginError) as caught:
        invoke(binary, "ADD", CONF, container_id="c1", netns="/x")
    err = caught.value
    assert isinstance(err, KubelabError) and err.area == "cni"
    assert (err.code, err.msg, err.details, err.cni_version, err.rc) == (
        7,
        "invalid network config",
        "mtu 20 < 68",
        "1.0.0",
        1,
    )
    assert err.document() == ERROR_DOC
    text = str(err)
    assert text.splitlines()[0] == "cni: failing ADD failed (exit status 1): error 7: invalid network config"
    assert "  details: mtu 20 < 68" in text
    assert f"  command: CNI_COMMAND=ADD {binary}" in text
    assert "plugin: mtu too small" in text  # stderr, as the output
    again = pickle.loads(pickle.dumps(err))
    assert (again.code, again.msg, again.details, str(again)) == (7, err.msg, err.details, text)


def test_a_multi_line_details_is_indented(tmp_path: Path) -> None:
    doc = {"cniVersion": "1.1.0", "code": 100, "msg": "internal error", "details": "Traceback:\n  line 1\nboom"}
    with pytest.raises(PluginError) as caught:
        invoke(failing(tmp_path, stdout=json.dumps(doc)), "DEL", CONF, container_id="c1")
    assert "\n  details:\n    Traceback:\n      line 1\n    boom" in str(caught.value)


@pytest.mark.parametrize(
    ("stdout", "stderr", "rc", "needle"),
    [
        ("", "", 1, "no error message"),
        ("", "panic: nil map\n", 2, "no error document"),
        ("not json", "", 1, "not an error document"),
        ('{"msg": "no code"}', "", 1, "not an error document"),
    ],
)
def test_a_failure_without_an_error_document_has_code_0(
    tmp_path: Path, stdout: str, stderr: str, rc: int, needle: str
) -> None:
    with pytest.raises(PluginError) as caught:
        invoke(failing(tmp_path, stdout=stdout, stderr=stderr, rc=rc), "ADD", CONF)
    err = caught.value
    assert err.code == 0 and err.rc == rc and needle in err.msg
    assert f"(exit status {rc})" in str(err) and "fix: run the plugin by hand" in str(err)
    if stderr:
        assert "panic: nil map" in str(err)


def test_a_killed_plugin_says_by_which_signal(tmp_path: Path) -> None:
    binary = plugin(tmp_path, "killed", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    with pytest.raises(PluginError) as caught:
        invoke(binary, "ADD", CONF)
    assert caught.value.rc == -9 and "killed by SIGKILL" in str(caught.value)


def test_empty_stdout_is_no_result_and_a_non_object_result_is_an_error(tmp_path: Path) -> None:
    assert invoke(plugin(tmp_path, "quiet", "import sys\nsys.stdin.read()\n"), "DEL", CONF) is None
    with pytest.raises(PluginError, match="not a JSON object"):
        invoke(plugin(tmp_path, "list", "print('[1, 2]')\n"), "ADD", CONF)


def test_prefix_runs_the_plugin_through_another_program(tmp_path: Path) -> None:
    script = tmp_path / "not-executable.py"
    script.write_text(ECHO)
    result = invoke(str(script), "CHECK", CONF, prefix=[sys.executable])
    assert result is not None and result["env"]["CNI_COMMAND"] == "CHECK"


def test_a_plugin_that_cannot_start_or_hangs_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PluginError, match="cannot start") as caught:
        invoke(str(tmp_path / "absent"), "ADD", CONF)
    assert caught.value.code == 0
    hangs = plugin(tmp_path, "hangs", "import time\ntime.sleep(30)\n")
    with pytest.raises(PluginError, match=r"no answer within 0\.5 s"):
        invoke(hangs, "ADD", CONF, timeout=0.5)


def test_find_in_path(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (first / "bridge").write_text("not executable")
    (second / "bridge").write_text("#!/bin/sh\n")
    (second / "bridge").chmod(0o755)
    assert find_in_path("bridge", [str(first), str(second)]) == str(second / "bridge")
    with pytest.raises(PluginNotFound) as caught:
        find_in_path("host-local", [str(first), str(second)])
    assert f"CNI_PATH {first}:{second}" in str(caught.value) and "fix:" in str(caught.value)
    with pytest.raises(PluginNotFound, match="plain file name"):
        find_in_path("../bridge", [str(first)])


def test_unique_names_fit_an_interface_name() -> None:
    names = {unique_name("klp") for _ in range(100)}
    assert len(names) == 100 and all(len(n) <= 15 and n.startswith("klp") for n in names)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ip") is None, reason="needs root and iproute2")
def test_named_netns_create_run_inside_delete() -> None:
    with Netns.create("klt") as ns:
        assert ns.exists() and ns.path == f"/var/run/netns/{ns.name}"
        links = ns.ip_json("link", "show")
        assert [link["ifname"] for link in links] == ["lo"]  # a fresh namespace has only loopback
    assert not ns.exists()
    ns.delete()  # already gone: fine
