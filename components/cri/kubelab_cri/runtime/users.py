"""Who a container's process runs as: the image's ``User`` and the CRI security context, read
against the image's own ``/etc/passwd`` and ``/etc/group`` (book 4.3), as containerd does.

Precedence: ``run_as_user`` (a UID) over ``run_as_username`` over the image's ``User``
(``uid``, ``name``, ``uid:gid`` or ``name:group``); the group is ``run_as_group``, else the one
after the colon, else the user's primary group in passwd, else 0. Supplementary groups: the
groups that list the user in ``/etc/group`` (policy Merge, the default) plus the request's
``supplemental_groups``; policy Strict keeps only the request's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kubelab_kit.grpc import InvalidArgument


@dataclass(frozen=True)
class User:
    uid: int
    gid: int
    additional_gids: list[int] = field(default_factory=list)
    name: str = ""


def _table(rootfs: Path, name: str) -> list[list[str]]:
    path = rootfs / "etc" / name
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return []
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]


def _passwd(rootfs: Path, key: str) -> tuple[str, int, int] | None:
    """(name, uid, gid) of the passwd entry whose name or UID is ``key``."""
    for row in _table(rootfs, "passwd"):
        if len(row) >= 4 and (row[0] == key or row[2] == key) and row[2].isdigit() and row[3].isdigit():
            return row[0], int(row[2]), int(row[3])
    return None


def _group(rootfs: Path, key: str) -> int | None:
    if key.isdigit():
        return int(key)
    for row in _table(rootfs, "group"):
        if len(row) >= 3 and row[0] == key and row[2].isdigit():
            return int(row[2])
    return None


def _member_of(rootfs: Path, name: str) -> list[int]:
    return [
        int(row[2])
        for row in _table(rootfs, "group")
        if len(row) >= 4 and row[2].isdigit() and name and name in row[3].split(",")
    ]


def resolve(
    rootfs: Path,
    image_user: str,
    run_as_user: int | None = None,
    run_as_username: str = "",
    run_as_group: int | None = None,
    supplemental: list[int] | None = None,
    strict: bool = False,
) -> User:
    if run_as_group is not None and run_as_user is None and not run_as_username:
        raise InvalidArgument("run_as_group is set without run_as_user (or run_as_username): a group needs a user")
    user_part, _, group_part = image_user.partition(":")
    if run_as_user is not None:  # the request names the user: the image's group goes with the image's user
        user_key, group_part = str(run_as_user), ""
    elif run_as_username:
        user_key, group_part = run_as_username, ""
    else:
        user_key = user_part or "0"
    entry = _passwd(rootfs, user_key)
    if entry is None and not user_key.isdigit():
        raise InvalidArgument(f"user {user_key!r} is not in the image's /etc/passwd")
    name, uid, primary = entry if entry is not None else ("", int(user_key), 0)
    if run_as_group is not None:
        gid = run_as_group
    elif group_part:
        found = _group(rootfs, group_part)
        if found is None:
            raise InvalidArgument(f"group {group_part!r} is not in the image's /etc/group")
        gid = found
    else:
        gid = primary
    extra = [] if strict else _member_of(rootfs, name)
    extra += list(supplemental or [])
    additional = sorted({g for g in extra if g != gid})
    return User(uid=uid, gid=gid, additional_gids=additional, name=name)
