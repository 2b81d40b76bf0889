"""Source patches: building a Go module with files of ours added and a few lines edited.

The Go tool builds a dependency from the read-only module cache (and ``-overlay`` refuses files
beneath it), so a patched module is a writable copy of the module's source that the wrapper
module replaces it with (``replace k8s.io/kubernetes => ./patched/kubernetes``). What changes is
described by a ``patch.toml`` next to the files it adds (see
components/apiserver/kube-apiserver-plugin/patch.toml):

- ``[[add]]``: ``path`` in the module, ``from`` relative to the patch folder;
- ``[[edit]]``: ``path``, one of ``after``/``before`` (a regular expression; the first line that
  matches is the anchor) and ``insert`` (the line(s) to put there).

An anchor that matches no line fails the build naming the edit: upstream moved the line, and a
patch that silently applies nowhere would build an unpatched binary with a patched version.
"""

from __future__ import annotations

import os
import re
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path

from kubelab_cluster.cache import content_key

PATCH_FILE = "patch.toml"


class PatchError(RuntimeError):
    """A patch that cannot be applied: a missing file, an anchor that matches nothing."""


@dataclass(frozen=True)
class SourcePatch:
    """A patch folder of the repository (relative to its root)."""

    folder: str

    def root(self) -> Path:
        from kubelab_cluster.pins import repo_root

        return repo_root() / self.folder

    def spec(self) -> dict[str, object]:
        with (self.root() / PATCH_FILE).open("rb") as fh:
            return tomllib.load(fh)

    @property
    def module(self) -> str:
        return str(self.spec()["module"])

    @property
    def version_suffix(self) -> str:
        return str(self.spec().get("version_suffix", ""))

    def key(self) -> str:
        """A hash of patch.toml and the files it adds: a changed plugin rebuilds, a changed README does not."""
        root = self.root()
        files = [PATCH_FILE, *sorted(str(add["from"]) for add in _tables(self.spec(), "add"))]
        return content_key({name: (root / name).read_bytes().hex() for name in files})

    def apply(self, source: Path, into: Path) -> None:
        """Copy the module ``source`` to ``into`` (writable) and apply the patch there."""
        writable_copy(source, into)
        spec = self.spec()
        for add in _tables(spec, "add"):
            target = into / str(add["path"])
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.root() / str(add["from"]), target)
        for number, edit in enumerate(_tables(spec, "edit"), 1):
            path = into / str(edit["path"])
            if not path.is_file():
                raise PatchError(f"{self.folder}/{PATCH_FILE}: edit {number}: {edit['path']} is not in {self.module}")
            path.write_text(apply_edit(path.read_text(), edit, f"{self.folder}/{PATCH_FILE}: edit {number}"))


def writable_copy(source: Path, into: Path) -> None:
    """A copy of a module's source that can be edited and built in (the module cache's is read-only)."""
    shutil.copytree(source, into, dirs_exist_ok=True, copy_function=shutil.copyfile)
    for folder, _dirs, files in os.walk(into):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)


def _tables(spec: dict[str, object], name: str) -> list[dict[str, object]]:
    value = spec.get(name, [])
    assert isinstance(value, list)
    return value


def apply_edit(text: str, edit: dict[str, object], where: str) -> str:
    """Insert ``edit['insert']`` after or before the first line matching its anchor."""
    if ("after" in edit) == ("before" in edit):
        raise PatchError(f"{where}: give exactly one of `after` and `before`")
    anchor = str(edit.get("after", edit.get("before")))
    lines = text.splitlines(keepends=True)
    pattern = re.compile(anchor)
    for i, line in enumerate(lines):
        if pattern.search(line.rstrip("\n")):
            at = i + 1 if "after" in edit else i
            insert = str(edit["insert"]).rstrip("\n") + "\n"
            return "".join([*lines[:at], insert, *lines[at:]])
    raise PatchError(f"{where}: no line of {edit['path']} matches {anchor!r} (did upstream move it?)")
