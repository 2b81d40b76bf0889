"""Checksum manifests in the format of ``sha256sum``: a release's ``SHA256SUMS``.

One line per file, ``<64 hex digits><two spaces><path relative to the manifest's folder>``,
sorted by path, so ``cd DIR && sha256sum -c SHA256SUMS`` checks a release without us. Reading
also accepts ``sha256sum``'s binary-mode marker (``<hex> *<path>``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from kubelab_cluster.toolchain.errors import ReleaseError
from kubelab_kit.files import atomic_write

MANIFEST = "SHA256SUMS"
LINE = re.compile(r"^(?P<digest>[0-9a-f]{64}) [ *](?P<name>.+)$")


def sha256_of(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def render(digests: dict[str, str]) -> str:
    return "".join(f"{digest}  {name}\n" for name, digest in sorted(digests.items()))


def _checked_name(name: str, where: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ReleaseError(f"{where}: {name!r} is not a path inside the release folder", fix="regenerate the manifest")
    return name


def parse(text: str, source: str = MANIFEST) -> dict[str, str]:
    """``path -> sha256`` from a manifest's text; a line that is not ``sha256sum`` output fails naming it."""
    digests: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = LINE.match(line)
        if not m:
            raise ReleaseError(
                f"{source}, line {number}: {line[:80]!r} is not `<sha256>  <file>`",
                fix="regenerate the manifest (kubelab-toolchain release --out DIR)",
            )
        digests[_checked_name(m["name"], f"{source}, line {number}")] = m["digest"]
    if not digests:
        raise ReleaseError(
            f"{source} lists no files", fix="regenerate the manifest (kubelab-toolchain release --out DIR)"
        )
    return digests


def write_manifest(folder: Path, names: list[str]) -> Path:
    """Hash ``names`` (relative to ``folder``) into ``folder/SHA256SUMS``."""
    digests = {_checked_name(n, MANIFEST): sha256_of(folder / n) for n in names}
    path = folder / MANIFEST
    atomic_write(path, render(digests))
    return path


@dataclass(frozen=True)
class Mismatch:
    name: str
    expected: str
    actual: str | None  # None: the file is missing

    def describe(self) -> str:
        if self.actual is None:
            return f"{self.name}: missing (expected sha256 {self.expected})"
        return f"{self.name}: expected sha256 {self.expected}, actual {self.actual}"


def check(folder: Path) -> tuple[dict[str, str], list[Mismatch]]:
    """Re-hash every file ``folder/SHA256SUMS`` lists: (the manifest, the files that differ)."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise ReleaseError(
            f"{manifest} does not exist", fix=f"make the release first: kubelab-toolchain release --out {folder}"
        )
    digests = parse(manifest.read_text(), str(manifest))
    mismatches: list[Mismatch] = []
    for name, expected in digests.items():
        path = folder / name
        actual = sha256_of(path) if path.is_file() else None
        if actual != expected:
            mismatches.append(Mismatch(name, expected, actual))
    return digests, mismatches


def verify(folder: Path) -> dict[str, str]:
    """Like ``sha256sum -c``: the manifest if every file matches, else a ReleaseError naming each that does not."""
    digests, mismatches = check(folder)
    if mismatches:
        lines = "\n".join(f"  {m.describe()}" for m in mismatches)
        raise ReleaseError(
            f"{len(mismatches)} of {len(digests)} files in {folder} do not match {MANIFEST}:\n{lines}",
            fix="a file changed after the release was made: restore it, or make the release again "
            f"(kubelab-toolchain release --out {folder})",
        )
    return digests
