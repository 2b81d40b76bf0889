"""The kit's standard-library core: the error rendering, entry points, atomic files, signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kubelab_kit.entry import entry_point
from kubelab_kit.errors import KubelabError
from kubelab_kit.files import atomic_write, staged_dir, swap_symlink


class DemoError(KubelabError):
    area = "demo"


def test_render_names_what_broke_the_command_and_the_fix() -> None:
    err = DemoError("it broke", command=["go", "build", "a b"], output="\n".join(f"l{i}" for i in range(30)), fix="x")
    lines = err.render().splitlines()
    assert lines[0] == "demo: it broke"
    assert lines[1] == "  command: go build 'a b'"
    assert lines[2] == "  output (last lines):" and lines[3] == "    l15" and lines[17] == "    l29"
    assert lines[-1] == "  fix: x"
    assert str(err) == err.render()
    assert DemoError("plain").render() == "demo: plain"


def test_entry_point_reports_the_error_and_its_code(capsys: pytest.CaptureFixture[str]) -> None:
    class Usage(DemoError):
        exit_code = 2

    @entry_point
    def main(fail: bool) -> int:
        if fail:
            raise Usage("bad input", fix="pass --good")
        return 0

    assert main(False) == 0
    assert main(True) == 2
    assert capsys.readouterr().err == "demo: bad input\n  fix: pass --good\n"

    @entry_point
    def bug() -> int:
        raise ValueError("a bug keeps its traceback")

    with pytest.raises(ValueError):
        bug()


def test_atomic_write_only_writes_a_change(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b.txt"
    assert atomic_write(path, "one", mode=0o600)
    assert path.read_text() == "one" and path.stat().st_mode & 0o777 == 0o600
    inode = path.stat().st_ino
    assert not atomic_write(path, "one", mode=0o600)
    assert path.stat().st_ino == inode
    assert atomic_write(path, b"two")
    assert path.read_bytes() == b"two" and path.stat().st_ino != inode
    assert sorted(p.name for p in path.parent.iterdir()) == ["b.txt"]


def test_swap_symlink(tmp_path: Path) -> None:
    link = tmp_path / "current"
    link.mkdir()  # a first install that was a real folder
    assert swap_symlink(link, "v1")
    assert os.readlink(link) == "v1"
    assert not swap_symlink(link, "v1")
    assert swap_symlink(link, "v2") and os.readlink(link) == "v2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current"]


def test_staged_dir_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "v1-abc"
    with pytest.raises(RuntimeError), staged_dir(target) as stage:
        (stage / "half").write_text("x")
        raise RuntimeError("build failed")
    assert list(tmp_path.iterdir()) == []
    with staged_dir(target) as stage:
        (stage / "bin").write_text("1")
    assert (target / "bin").read_text() == "1"
    assert target.stat().st_mode & 0o777 == 0o755  # a shared cache folder, not mkdtemp's 0700
    with staged_dir(target) as stage:  # another run finished first: kept
        (stage / "bin").write_text("2")
    assert (target / "bin").read_text() == "1"
    with staged_dir(target, replace=True) as stage:
        (stage / "bin").write_text("3")
    assert (target / "bin").read_text() == "3"
    assert [p.name for p in tmp_path.iterdir()] == ["v1-abc"]


def test_sigterm_stops_the_loop(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import sys
        from kubelab_kit.signals import run_until_signalled
        def loop(stop):
            print("ready", flush=True)
            while not stop.wait(0.05):
                pass
            print("stopped", flush=True)
        run_until_signalled(loop)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0 and out.strip() == "stopped"
