"""Label and field selectors, as much as the fake API server needs (equality, existence, ``in``)."""

from __future__ import annotations

import re
from collections.abc import Callable

from kubelab_client.objects import KubeObject, labels, metadata

Matcher = Callable[[KubeObject], bool]
# (operator, key, values): "=", "!=", "in", "notin", "exists", "!exists"
Requirement = tuple[str, str, frozenset[str]]

_TERM = re.compile(r"\s*(?:[^,(]+\([^)]*\)|[^,]+)\s*")


def parse_label_selector(selector: str) -> list[Requirement]:
    requirements: list[Requirement] = []
    for term in (t.strip() for t in _TERM.findall(selector)):
        if not term:
            continue
        if m := re.fullmatch(r"([^!=\s]+)\s+(in|notin)\s+\(([^)]*)\)", term):
            values = frozenset(v.strip() for v in m.group(3).split(","))
            requirements.append((m.group(2), m.group(1), values))
        elif "!=" in term:
            key, value = (s.strip() for s in term.split("!=", 1))
            requirements.append(("!=", key, frozenset([value])))
        elif "=" in term:
            key, value = (s.strip() for s in term.replace("==", "=").split("=", 1))
            requirements.append(("=", key, frozenset([value])))
        elif term.startswith("!"):
            requirements.append(("!exists", term[1:].strip(), frozenset()))
        else:
            requirements.append(("exists", term, frozenset()))
    return requirements


def _satisfied(requirement: Requirement, found: dict[str, str]) -> bool:
    op, key, values = requirement
    value = found.get(key)
    if op in ("=", "in"):
        return value in values
    if op in ("!=", "notin"):
        return value not in values
    if op == "exists":
        return value is not None
    return value is None


def label_matcher(selector: str | None) -> Matcher:
    requirements = parse_label_selector(selector or "")

    def matches(obj: KubeObject) -> bool:
        found = labels(obj)
        return all(_satisfied(r, found) for r in requirements)

    return matches


def field_matcher(selector: str | None) -> Matcher:
    terms: list[tuple[str, str, bool]] = []
    for term in (t.strip() for t in (selector or "").split(",")):
        if not term:
            continue
        negate = "!=" in term
        name, value = (s.strip() for s in term.replace("!=", "=").replace("==", "=").split("=", 1))
        if name not in ("metadata.name", "metadata.namespace"):
            raise ValueError(f"field selector {name!r} not supported by the fake server")
        terms.append((name.split(".", 1)[1], value, negate))

    def matches(obj: KubeObject) -> bool:
        meta = metadata(obj)
        return all((str(meta.get(attr) or "") == value) != negate for attr, value, negate in terms)

    return matches
