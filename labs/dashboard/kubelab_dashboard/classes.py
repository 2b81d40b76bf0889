"""Classes and their tokens: a lab run posts with its class's token (``--class-token``), the
instructor looks with the instructor key. Tokens are compared in constant time."""

from __future__ import annotations

import hmac
import re
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path

from kubelab_kit.errors import KubelabError

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class ClassesError(KubelabError):
    area = "dashboard"


@dataclass(frozen=True)
class Classroom:
    name: str
    token: str


@dataclass(frozen=True)
class Classes:
    rooms: tuple[Classroom, ...]
    instructor_key: str

    def by_token(self, token: str) -> Classroom | None:
        found = None
        for room in self.rooms:  # every token compared, so the time says nothing of which one is close
            if hmac.compare_digest(room.token.encode(), token.encode()):
                found = room
        return found

    def named(self, name: str) -> Classroom | None:
        return next((room for room in self.rooms if room.name == name), None)

    def instructor(self, key: str | None) -> bool:
        return key is not None and hmac.compare_digest(self.instructor_key.encode(), key.encode())


def new_token() -> str:
    return secrets.token_urlsafe(18)


def parse_class(spec: str) -> Classroom:
    """``NAME=TOKEN`` (or ``NAME``: a new token)."""
    name, _, token = spec.partition("=")
    return _room(name.strip(), token.strip() or new_token(), f"--class {spec!r}")


def _room(name: str, token: str, where: str) -> Classroom:
    if not NAME.match(name):
        raise ClassesError(f"{where}: class name {name!r}", fix="lowercase letters, digits and -, up to 40")
    if len(token) < 12:
        raise ClassesError(f"{where}: the token of class {name} is shorter than 12 characters", fix="use a longer one")
    return Classroom(name, token)


def load(path: Path) -> list[Classroom]:
    """A classes file: ``[classes]`` with ``name = "token"`` lines."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ClassesError(f"{path}: {exc}", fix='write [classes] then lines like k8s-101 = "a-long-token"') from exc
    table = data.get("classes")
    if not isinstance(table, dict) or not table:
        raise ClassesError(
            f"{path}: no [classes] table", fix='write [classes] then lines like k8s-101 = "a-long-token"'
        )
    return [_room(str(name), str(token), str(path)) for name, token in table.items()]


def classes(rooms: list[Classroom], instructor_key: str | None) -> Classes:
    names = [room.name for room in rooms]
    if len(set(names)) != len(names):
        raise ClassesError(f"a class is named twice: {names}", fix="give each class its own name")
    tokens = [room.token for room in rooms]
    if len(set(tokens)) != len(tokens):
        raise ClassesError("two classes share a token", fix="give each class its own token")
    return Classes(tuple(rooms) or (Classroom("workshop", new_token()),), instructor_key or new_token())
