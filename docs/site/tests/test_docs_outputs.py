"""Output blocks against captures: volatile values masked, words compared, pages rewritten."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelab_docs.outputs import check, marked_blocks, masked, write
from kubelab_labkit import outputs

PAGE = """# Guide

<!-- output: cni/commands -->
```console
$ uv run nox -s lab-cni -- -s -k test_05
ADD      rc=0 eth0 10.250.0.2/24 mac 2a:cd:ca:de:e8:22 in 0.3 ms
CHECK    rc=1: address missing on eth0
```

```console
$ unmarked
anything
```
"""


@pytest.fixture
def captures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KUBELAB_CACHE", str(tmp_path / "cache"))
    return tmp_path


def test_only_marked_blocks_count_and_the_command_line_is_not_output() -> None:
    (marked,) = marked_blocks(PAGE)
    assert marked.name == "cni/commands" and marked.command.startswith("$ uv run nox -s lab-cni")
    assert marked.output.splitlines()[0].startswith("ADD")


def test_values_that_change_between_runs_are_masked_words_are_not() -> None:
    a = "ADD rc=0 eth0 10.250.0.2/24 mac 2a:cd:ca:de:e8:22 in 0.3 ms veth0884d04c9db rv=2213 (0:01:08)"
    b = "ADD rc=0 eth0 10.250.0.7/24 mac 22:7a:37:be:1a:af in 12.5 ms veth1234abcd5678 rv=99 (0:00:59)"
    assert masked(a) == masked(b)
    assert masked("rc=0 eth0") != masked("rc=1 eth0") and masked("address missing") != masked("address absent")


def test_a_page_that_matches_its_capture_passes_a_changed_message_fails(captures: Path) -> None:
    (captures / "guide.md").write_text(PAGE)
    outputs.capture(
        "cni/commands",
        "ADD      rc=0 eth0 10.250.0.9/24 mac 22:7a:37:be:1a:af in 1.2 ms\nCHECK    rc=1: address missing on eth0",
    )
    findings, compared, missing = check([Path("guide.md")], captures, require=True)
    assert (findings, compared, missing) == ([], 1, [])
    outputs.capture(
        "cni/commands", "ADD      rc=0 eth0 10.250.0.9/24 mac 22:7a:37:be:1a:af in 1.2 ms\nCHECK    rc=1: gone"
    )
    (finding,) = check([Path("guide.md")], captures, require=True)[0]
    assert "line 2" in finding.problem and "gone" in finding.problem


def test_a_missing_capture_fails_only_when_required(captures: Path) -> None:
    (captures / "guide.md").write_text(PAGE)
    assert check([Path("guide.md")], captures, require=False) == ([], 0, ["cni/commands"])
    (finding,) = check([Path("guide.md")], captures, require=True)[0]
    assert "no capture" in finding.problem


def test_write_puts_the_capture_in_and_keeps_the_command(captures: Path) -> None:
    (captures / "guide.md").write_text(PAGE)
    outputs.capture("cni/commands", "NEW LINE 1\nNEW LINE 2\nNEW LINE 3")
    assert write([Path("guide.md")], captures) == [Path("guide.md")]
    text = (captures / "guide.md").read_text()
    assert "$ uv run nox -s lab-cni -- -s -k test_05\nNEW LINE 1\nNEW LINE 2\nNEW LINE 3\n```" in text
    assert "$ unmarked\nanything" in text
    assert check([Path("guide.md")], captures, require=True)[0] == []
    assert write([Path("guide.md")], captures) == []


def test_a_capture_name_must_say_lab_and_what() -> None:
    with pytest.raises(ValueError, match="is not <lab>/<what>"):
        outputs.capture_path("../etc/passwd")
