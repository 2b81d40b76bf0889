"""Claiming a unix socket path: live sockets refused, stale ones removed, other files never touched."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubelab_kit.grpc import GrpcError, NotASocketError, SocketInUseError, answers, claim, socket_path, unix_target
from kubelab_kit.grpc.socket import SocketFile, publish, staging


@pytest.fixture
def listening(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "live.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(path))
        sock.listen(1)
        yield path


def stale_socket(path: Path) -> Path:
    """A socket file whose listener is gone, as a crashed server leaves it."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(path))
    assert stat.S_ISSOCK(os.lstat(path).st_mode)
    return path


@pytest.mark.parametrize(
    ("endpoint", "path"),
    [
        ("/run/x.sock", "/run/x.sock"),
        ("unix:///run/x.sock", "/run/x.sock"),
        ("unix:/run/x.sock", "/run/x.sock"),
        ("unix:rel/x.sock", "rel/x.sock"),
        (Path("/run/x.sock"), "/run/x.sock"),
    ],
)
def test_socket_path_accepts_paths_and_unix_endpoints(endpoint: str | Path, path: str) -> None:
    assert socket_path(endpoint) == Path(path)


def test_unix_target_is_absolute_and_idempotent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert unix_target("/run/x.sock") == "unix:///run/x.sock"
    assert unix_target(unix_target("/run/x.sock")) == "unix:///run/x.sock"
    monkeypatch.chdir(tmp_path)
    assert unix_target("x.sock") == f"unix://{tmp_path}/x.sock"


@pytest.mark.parametrize("endpoint", ["tcp://127.0.0.1:9000", "dns:///localhost:1", "unix://", ""])
def test_socket_path_refuses_other_schemes_and_empty(endpoint: str) -> None:
    with pytest.raises(GrpcError) as info:
        socket_path(endpoint)
    assert info.value.area == "grpc"
    assert info.value.fix


def test_claim_creates_missing_parents_with_the_mode(tmp_path: Path) -> None:
    path = claim(f"unix://{tmp_path}/a/b/x.sock", dir_mode=0o710)
    assert path == tmp_path / "a" / "b" / "x.sock"
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o710
    assert stat.S_IMODE((tmp_path / "a" / "b").stat().st_mode) == 0o710
    assert not path.exists()


def test_claim_leaves_an_existing_parent_mode_alone(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    claim(tmp_path / "x.sock", dir_mode=0o700)
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755


def test_claim_removes_a_stale_socket(tmp_path: Path) -> None:
    path = stale_socket(tmp_path / "x.sock")
    assert not answers(path)
    assert claim(path) == path
    assert not path.exists()


def test_claim_refuses_a_live_socket_and_keeps_it(listening: Path) -> None:
    assert answers(listening)
    with pytest.raises(SocketInUseError) as info:
        claim(f"unix://{listening}")
    text = str(info.value)
    assert text.startswith(f"grpc: another server listens on {listening}")
    assert "fix: stop that server first" in text
    assert stat.S_ISSOCK(os.lstat(listening).st_mode)
    assert answers(listening)


def test_claim_refuses_a_regular_file_and_leaves_it_intact(tmp_path: Path) -> None:
    path = tmp_path / "x.sock"
    path.write_text("precious")
    with pytest.raises(NotASocketError) as info:
        claim(path)
    assert "is not a socket (a regular file)" in str(info.value)
    assert path.read_text() == "precious"


def test_claim_refuses_a_symlink_to_a_stale_socket(tmp_path: Path) -> None:
    target = stale_socket(tmp_path / "real.sock")
    link = tmp_path / "x.sock"
    link.symlink_to(target)
    with pytest.raises(NotASocketError, match="a symlink"):
        claim(link)
    assert link.is_symlink()
    assert target.exists()


def test_claim_refuses_a_path_too_long_for_a_socket_address(tmp_path: Path) -> None:
    with pytest.raises(GrpcError, match="a unix socket path may have at most 105"):
        claim(tmp_path / ("x" * 120 + ".sock"))


def test_claim_refuses_a_parent_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(GrpcError, match="is not a directory"):
        claim(tmp_path / "file" / "x.sock")


def test_publish_links_the_staged_socket_with_its_mode_and_never_clobbers(tmp_path: Path) -> None:
    path = tmp_path / "x.sock"
    with staging(path) as staged, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        assert staged.name.startswith(".") and staged.parent.name.startswith(".")
        assert stat.S_IMODE(staged.parent.stat().st_mode) == 0o700
        sock.bind(str(staged))
        sock.listen(1)
        published = publish(staged, path, mode=0o600)
        assert answers(path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert published.is_present()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.sock"], "the staging directory is gone"
    with staging(path) as staged, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(staged))
        with pytest.raises(SocketInUseError, match="appeared while this server was starting"):
            publish(staged, path, mode=0o600)
    assert published.is_present(), "the first socket was not replaced"


def test_socket_file_removes_only_its_own_inode(tmp_path: Path) -> None:
    path = tmp_path / "x.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as mine_listener:
        mine_listener.bind(str(path))
        mine = SocketFile.at(path)
        path.unlink()  # someone removed it; a newer server put its own socket there
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as theirs_listener:
            theirs_listener.bind(str(path))
            assert not mine.is_present()
            assert not mine.remove()
            assert path.exists()
            theirs = SocketFile.at(path)
            assert theirs.remove()
            assert not path.exists()
            assert not theirs.remove()
