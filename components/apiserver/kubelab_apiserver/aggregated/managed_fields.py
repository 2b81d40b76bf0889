"""Server-side apply and field ownership (``metadata.managedFields``), as structured-merge-diff
does it for a schema whose maps are granular and whose lists are atomic.

Each manager owns a set of leaf paths (``("spec", "title")``, ``("metadata", "labels", "app")``;
a list is one leaf). Written as FieldsV1 (``{"f:spec": {"f:title": {}}}``) per manager and
operation (``Apply`` or ``Update``, and the subresource).

* **Update** (create, PUT, a non-apply PATCH): the manager takes every leaf it changed; other
  managers lose those leaves, silently.
* **Apply**: the applied configuration is merged into the object. A leaf another manager owns
  with a different value is a conflict: 409 naming each field and manager, unless ``force``,
  which takes the field. Leaves this manager applied before and omits now are removed, unless
  another manager still owns them. The manager's applied set is replaced by this one.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from typing import Any

from kubelab_apiserver.aggregated.status import StatusError
from kubelab_client.objects import format_time

Path = tuple[str, ...]
UNOWNED_METADATA = {
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "managedFields",
    "selfLink",
    "generateName",
}


def leaves(obj: Any, base: Path = ()) -> dict[Path, Any]:
    """Every owned leaf of ``obj`` and its value (maps are walked, everything else is a leaf)."""
    found: dict[Path, Any] = {}
    if not isinstance(obj, dict) or (base and not obj):
        if base:
            found[base] = obj
        return found
    for key, value in obj.items():
        if not base and key in ("apiVersion", "kind"):
            continue
        if base == ("metadata",) and key in UNOWNED_METADATA:
            continue
        found.update(leaves(value, (*base, key)))
    return found


def to_fields_v1(paths: set[Path]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in sorted(paths):
        node = out
        for part in path:
            node = node.setdefault(f"f:{part}", {})
    return out


def from_fields_v1(fields: Any, base: Path = ()) -> set[Path]:
    if not isinstance(fields, dict) or not fields:
        return {base} if base else set()
    paths: set[Path] = set()
    for key, value in fields.items():
        if key.startswith("f:"):
            paths |= from_fields_v1(value, (*base, key[2:]))
        elif key == ".":
            paths.add(base)
    return paths


@dataclass
class Entry:
    manager: str
    operation: str  # Apply | Update
    api_version: str
    subresource: str
    paths: set[Path]
    time: str = ""

    def render(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": to_fields_v1(self.paths),
        }
        if self.subresource:
            entry["subresource"] = self.subresource
        return entry


def read(obj: dict[str, Any]) -> list[Entry]:
    entries = []
    for raw in (obj.get("metadata") or {}).get("managedFields") or []:
        if isinstance(raw, dict) and raw.get("manager") is not None:
            entries.append(
                Entry(
                    str(raw.get("manager")),
                    str(raw.get("operation") or "Update"),
                    str(raw.get("apiVersion") or ""),
                    str(raw.get("subresource") or ""),
                    from_fields_v1(raw.get("fieldsV1") or {}),
                    str(raw.get("time") or ""),
                )
            )
    return entries


def write(obj: dict[str, Any], entries: list[Entry]) -> None:
    kept = [e.render() for e in entries if e.paths]
    meta = obj.setdefault("metadata", {})
    if kept:
        meta["managedFields"] = kept
    else:
        meta.pop("managedFields", None)


def _now() -> str:
    return format_time(dt.datetime.now(dt.UTC))


def _entry(entries: list[Entry], manager: str, operation: str, api_version: str, subresource: str) -> Entry:
    for entry in entries:
        if (entry.manager, entry.operation, entry.subresource) == (manager, operation, subresource):
            return entry
    entry = Entry(manager, operation, api_version, subresource, set())
    entries.append(entry)
    return entry


def _covers(owned: Path, leaf: Path) -> bool:
    return leaf[: len(owned)] == owned or owned[: len(leaf)] == leaf


def record_update(
    old: dict[str, Any] | None, new: dict[str, Any], manager: str, api_version: str, subresource: str = ""
) -> None:
    """``manager`` changed ``old`` into ``new`` (``old`` None: created it): move ownership."""
    entries = read(old) if old is not None else []
    before, after = (leaves(old) if old is not None else {}), leaves(new)
    changed = {p for p, v in after.items() if before.get(p, object()) != v}
    removed = {p for p in before if p not in after}
    for entry in entries:
        entry.paths = {p for p in entry.paths if not any(_covers(p, c) for c in changed | removed)}
    if changed:
        mine = _entry(entries, manager, "Update", api_version, subresource)
        mine.paths |= changed
        mine.time, mine.api_version = _now(), api_version
    write(new, entries)


def _set(obj: dict[str, Any], path: Path, value: Any) -> None:
    node = obj
    for part in path[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[path[-1]] = copy.deepcopy(value)


def _remove(obj: dict[str, Any], path: Path) -> None:
    node: Any = obj
    trail = []
    for part in path[:-1]:
        if not isinstance(node, dict) or part not in node:
            return
        trail.append((node, part))
        node = node[part]
    if isinstance(node, dict):
        node.pop(path[-1], None)
    for parent, part in reversed(trail):  # maps emptied by the removal go too
        if parent[part] == {} and part not in ("metadata", "spec"):
            parent.pop(part)


def apply(
    current: dict[str, Any] | None,
    applied: dict[str, Any],
    manager: str,
    api_version: str,
    *,
    force: bool,
    subresource: str = "",
) -> dict[str, Any]:
    """The object after ``manager`` applies ``applied`` (``current`` None: the apply creates it)."""
    if not manager:
        raise StatusError(400, "BadRequest", "PATCH, application/apply-patch+yaml: fieldManager is required")
    base = copy.deepcopy(current) if current is not None else {k: applied[k] for k in ("apiVersion", "kind")}
    if current is None:
        base["metadata"] = {k: v for k, v in (applied.get("metadata") or {}).items() if k in ("name", "namespace")}
    entries = read(base)
    wanted = leaves(applied)
    have = leaves(base)
    conflicts: list[tuple[Path, str]] = []
    for entry in entries:
        if entry.manager == manager and entry.operation == "Apply":
            continue
        for path in entry.paths:
            for leaf, value in wanted.items():
                if _covers(path, leaf) and have.get(leaf, object()) != value:
                    conflicts.append((leaf, entry.manager))
    if conflicts and not force:
        unique = sorted(set(conflicts))
        causes = [
            {"type": "FieldManagerConflict", "message": f'conflict with "{who}"', "field": "." + ".".join(path)}
            for path, who in unique
        ]
        listed = "\n".join(f'conflict with "{who}": .{".".join(path)}' for path, who in unique)
        raise StatusError(
            409,
            "Conflict",
            f"Apply failed with {len(unique)} conflict{'s' * (len(unique) > 1)}: {listed}",
            {"causes": causes},
        )
    taken = {leaf for leaf, _who in conflicts}
    mine = _entry(entries, manager, "Apply", api_version, subresource)
    others = [e for e in entries if e is not mine]
    for entry in others:
        entry.paths = {p for p in entry.paths if not any(_covers(p, t) for t in taken)}
    for path in mine.paths - set(wanted):
        if not any(any(_covers(p, path) for p in e.paths) for e in others):
            _remove(base, path)
    for path, value in wanted.items():
        _set(base, path, value)
    mine.paths, mine.time, mine.api_version = set(wanted), _now(), api_version
    write(base, entries)
    return base
