"""Unix socket paths a gRPC server may claim: endpoints, liveness, stale files, publishing.

Guarantees of :func:`claim`:

- the parent directories exist (missing ones are created with ``dir_mode``, exactly);
- a socket something still answers on is never touched (:class:`SocketInUseError`);
- a socket nothing answers on (left by a crash) is removed;
- anything else at the path (a regular file, a directory, a symlink) is never touched
  (:class:`NotASocketError`).

:func:`staging` and :func:`publish` let a server bind in a private directory and make the
socket appear at its path only once it is serving with its final mode, with ``link(2)``
(which never replaces a file another server put there in the meantime). Watchers of the
directory (the kubelet's plugin watcher) therefore never see a socket nobody serves on, and
grpc's own unlinking of its bound path (on bind and on shutdown) only ever hits the private
copy. :class:`SocketFile` remembers which inode the server created, so a stop removes that
socket and never one a newer server put at the same path.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kubelab_kit.grpc.errors import GrpcError

log = logging.getLogger(__name__)

UNIX_SCHEME = "unix://"
KERNEL_MAX_PATH_BYTES = 107  # sockaddr_un.sun_path is 108 bytes on Linux, with the terminating NUL
MAX_PATH_BYTES = 105  # what grpc accepts in a unix:// target (it counts the "//")
STAGED_NAME = ".s"  # dot-named: the kubelet's plugin watcher ignores it


class SocketInUseError(GrpcError):
    """Another server answers on the socket path."""


class NotASocketError(GrpcError):
    """Something other than a socket is at the path; it is left untouched."""


def socket_path(endpoint: str | os.PathLike[str]) -> Path:
    """The filesystem path of ``endpoint``: ``/x.sock``, ``unix:///x.sock`` or ``unix:x.sock``.

    Other schemes (``tcp://``, ``dns:``) are refused: every kubelet-facing API here is a unix socket.
    """
    text = os.fspath(endpoint)
    if text.startswith(UNIX_SCHEME):
        text = text[len(UNIX_SCHEME) :]
    elif text.startswith("unix:"):
        text = text[len("unix:") :]
    elif "://" in text:
        raise GrpcError(
            f"endpoint {text!r} is not a unix socket",
            fix="give a path (/run/x.sock) or a unix:// endpoint (unix:///run/x.sock)",
        )
    if not text:
        raise GrpcError(f"endpoint {os.fspath(endpoint)!r} names no path", fix="give a path such as /run/x.sock")
    return Path(text)


def unix_target(endpoint: str | os.PathLike[str]) -> str:
    """The gRPC target for ``endpoint``: ``unix://`` and its absolute path (idempotent)."""
    return UNIX_SCHEME + str(socket_path(endpoint).absolute())


def bind_target(path: Path) -> str:
    """The ``unix:<path>`` target to bind ``path`` with: grpc takes paths up to the kernel's limit in this form."""
    return f"unix:{path}"


def check_length(path: Path, *, limit: int = MAX_PATH_BYTES, what: str = "socket path") -> None:
    """Refuse a path longer than grpc can reach as a ``unix://`` target (grpc fails obscurely on it)."""
    size = len(os.fsencode(path))
    if size > limit:
        raise GrpcError(
            f"{what} {path} is {size} bytes; a unix socket path may have at most {limit}",
            fix="serve under a shorter directory",
        )


def answers(path: Path, *, timeout: float = 1.0) -> bool:
    """Whether a server accepts connections on the socket at ``path`` (False: nothing, or stale).

    A connect that times out or finds the backlog full counts as an answer (the listener is alive).
    A connect refused for another reason (permission) raises: liveness is unknown, so the
    socket must not be treated as stale.
    """
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(timeout)
        try:
            probe.connect(str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            return False
        except (TimeoutError, BlockingIOError):
            return True  # a listener with a full backlog: alive, just busy
        except OSError as exc:
            raise GrpcError(
                f"cannot tell whether a server listens on {path}: {exc.strerror or exc}",
                fix="run as a user that may connect to it (often root), or serve on another path",
            ) from exc
        return True


def make_dirs(directory: Path, mode: int) -> None:
    """Create ``directory`` and missing parents, each with exactly ``mode``; existing ones are left as they are."""
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=mode)
        except FileExistsError:
            continue  # another process made it first
        except OSError as exc:
            raise GrpcError(
                f"cannot create the socket directory {path}: {exc.strerror or exc}",
                fix=f"create it yourself (mkdir -p -m {mode:o} {directory}) or run as a user that may",
            ) from exc
        path.chmod(mode)  # mkdir's mode passes through the umask
    if not directory.is_dir():
        raise GrpcError(f"{directory} is not a directory", fix="serve the socket under a directory")


def claim(endpoint: str | os.PathLike[str], *, dir_mode: int = 0o750) -> Path:
    """Make ``endpoint``'s path free for a new socket; returns the path (see the module docstring)."""
    path = socket_path(endpoint)
    check_length(path)
    make_dirs(path.parent, dir_mode)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return path
    if not stat.S_ISSOCK(info.st_mode):
        raise NotASocketError(
            f"{path} exists and is not a socket ({_kind(info.st_mode)}); it was left untouched",
            fix=f"move it away (mv {path} {path}.old) or serve on another path",
        )
    if answers(path):
        raise SocketInUseError(
            f"another server listens on {path}",
            fix=f"stop that server first (`ss -xlp | grep {path}` shows which process), or serve on another path",
        )
    log.info("removing stale socket %s (nothing answers on it)", path)
    path.unlink(missing_ok=True)
    return path


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symlink"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISREG(mode):
        return "a regular file"
    return f"file type {stat.S_IFMT(mode):o}"


@contextlib.contextmanager
def staging(path: Path) -> Iterator[Path]:
    """Yield a socket path in a private (0700) dot-directory beside ``path``; removed on exit.

    The staged path is 12 bytes longer than ``path``'s directory; bind it as ``unix:<path>``
    (:func:`bind_target`), which grpc accepts up to the kernel's limit.
    """
    directory = Path(tempfile.mkdtemp(prefix=".", dir=path.parent))
    staged = directory / STAGED_NAME
    try:
        check_length(staged, limit=KERNEL_MAX_PATH_BYTES, what=f"serving on {path} binds first to")
        yield staged
    finally:
        staged.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            directory.rmdir()


@dataclass(frozen=True)
class SocketFile:
    """A socket file a server created, identified by device and inode.

    The identity is exact while the server's listener is open (an inode number in use is
    never given to another file), which is why a server removes its socket before it closes
    the listener.
    """

    path: Path
    device: int
    inode: int

    @classmethod
    def at(cls, path: Path) -> SocketFile:
        info = os.lstat(path)
        return cls(path, info.st_dev, info.st_ino)

    def is_present(self) -> bool:
        """Whether ``path`` is still this very socket (not removed, not replaced)."""
        try:
            info = os.lstat(self.path)
        except FileNotFoundError:
            return False
        return (info.st_dev, info.st_ino) == (self.device, self.inode)

    def remove(self) -> bool:
        """Unlink ``path`` if it is still this socket; never a file another server put there. True if removed."""
        if not self.is_present():
            return False
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        return True


def publish(staged: Path, path: Path, *, mode: int) -> SocketFile:
    """Give the bound socket at ``staged`` its ``mode`` and make it appear at ``path``, atomically.

    Raises :class:`SocketInUseError` if something appeared at ``path`` since :func:`claim`.
    """
    staged.chmod(mode)
    try:
        os.link(staged, path)
    except FileExistsError as exc:
        raise SocketInUseError(
            f"{path} appeared while this server was starting (another server started at the same time?)",
            fix="run one server per socket path",
        ) from exc
    except OSError as exc:
        raise GrpcError(
            f"cannot create the socket {path}: {exc.strerror or exc}",
            fix="serve on a local filesystem (tmpfs, ext4, xfs, overlayfs) that allows hard links",
        ) from exc
    staged.unlink()
    return SocketFile.at(path)
