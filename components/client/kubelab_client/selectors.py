"""Label and field selectors as the API server parses and applies them (k8s.io/apimachinery
``labels`` and ``fields``): the fake API server of the tests and the Chapter 7 aggregated server
both filter with these.

Labels: ``key``, ``!key``, ``key=v`` (or ``==``), ``key!=v``, ``key in (a,b)``, ``key notin (a,b)``,
``key>1``, ``key<1``, comma-separated (all must hold). Keys are ``[prefix/]name`` (prefix a DNS
subdomain, name ≤ 63 characters of ``[A-Za-z0-9_.-]`` starting and ending alphanumeric), values
the same without a prefix or empty. Fields: ``path=v``, ``path==v``, ``path!=v``; which paths a
resource supports is the resource's choice (:func:`field_matcher`'s ``getters``). A selector that
does not parse is a :class:`SelectorError`, which a server answers with 400.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kubelab_client.objects import KubeObject, labels, metadata

Matcher = Callable[[KubeObject], bool]
FieldGetter = Callable[[KubeObject], str]

_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_PREFIX = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_KEY = re.compile(rf"({_PREFIX}/)?{_NAME}")
_VALUE = re.compile(rf"({_NAME})?")


class SelectorError(ValueError):
    """The selector does not parse (or names a field the resource does not select on)."""


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!exists", "gt", "lt"
    values: frozenset[str] = frozenset()

    def matches(self, found: Mapping[str, str]) -> bool:
        value = found.get(self.key)
        if self.op in ("=", "in"):
            return value in self.values
        if self.op in ("!=", "notin"):
            return value not in self.values
        if self.op == "exists":
            return value is not None
        if self.op == "!exists":
            return value is None
        if value is None:
            return False
        try:
            have, limit = int(value), int(next(iter(self.values)))
        except ValueError:
            return False
        return have > limit if self.op == "gt" else have < limit


def _split_terms(selector: str) -> list[str]:
    """Commas separate requirements, except inside ``( )``."""
    terms, depth, current = [], 0, ""
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += ch
    if depth != 0:
        raise SelectorError(f"unable to parse requirement: unbalanced parentheses in {selector!r}")
    terms.append(current)
    return [t.strip() for t in terms]


def _key(key: str, term: str) -> str:
    key = key.strip()
    if not _KEY.fullmatch(key) or len(key.rpartition("/")[0]) > 253:
        raise SelectorError(f"unable to parse requirement {term!r}: invalid label key {key!r}")
    return key


def _value(value: str, term: str) -> str:
    value = value.strip()
    if not _VALUE.fullmatch(value):
        raise SelectorError(f"unable to parse requirement {term!r}: invalid label value {value!r}")
    return value


def parse_label_selector(selector: str | None) -> list[Requirement]:
    if not (selector or "").strip():
        return []
    requirements: list[Requirement] = []
    for term in _split_terms(selector or ""):
        if not term:
            raise SelectorError(f"unable to parse requirement: empty requirement in {selector!r}")
        if m := re.fullmatch(r"(\S+)\s+(in|notin)\s*\((.*)\)", term):
            values = frozenset(_value(v, term) for v in m.group(3).split(","))
            requirements.append(Requirement(_key(m.group(1), term), m.group(2), values))
        elif m := re.fullmatch(r"([^!=<>\s]+)\s*(==|!=|=|>|<)\s*(.*)", term):
            op = {"==": "=", ">": "gt", "<": "lt"}.get(m.group(2), m.group(2))
            value = _value(m.group(3), term)
            if op in ("gt", "lt") and not re.fullmatch(r"-?\d+", value):
                raise SelectorError(f"unable to parse requirement {term!r}: {m.group(2)} takes an integer")
            requirements.append(Requirement(_key(m.group(1), term), op, frozenset([value])))
        elif term.startswith("!"):
            requirements.append(Requirement(_key(term[1:], term), "!exists"))
        else:
            requirements.append(Requirement(_key(term, term), "exists"))
    return requirements


def label_matcher(selector: str | None) -> Matcher:
    requirements = parse_label_selector(selector)

    def matches(obj: KubeObject) -> bool:
        found = labels(obj)
        return all(r.matches(found) for r in requirements)

    return matches


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def parse_field_selector(selector: str | None) -> list[tuple[str, str, bool]]:
    """(field, value, negated) per term."""
    terms: list[tuple[str, str, bool]] = []
    for term in re.split(r"(?<!\\),", selector or ""):
        term = term.strip()
        if not term:
            continue
        m = re.fullmatch(r"([^=!\s]+)\s*(==|!=|=)\s*(.*)", term)
        if not m:
            raise SelectorError(f"invalid selector: {term!r}; can't understand {term!r}")
        terms.append((m.group(1), _unescape(m.group(3)), m.group(2) == "!="))
    return terms


DEFAULT_FIELDS: dict[str, FieldGetter] = {
    "metadata.name": lambda o: str(metadata(o).get("name") or ""),
    "metadata.namespace": lambda o: str(metadata(o).get("namespace") or ""),
}


def field_matcher(selector: str | None, getters: Mapping[str, FieldGetter] | None = None, *, kind: str = "") -> Matcher:
    """A matcher of the fields ``getters`` knows (default: ``metadata.name`` and ``metadata.namespace``,
    which every resource supports)."""
    known = dict(getters or DEFAULT_FIELDS)
    terms = parse_field_selector(selector)
    for name, *_ in terms:
        if name not in known:
            what = f'"{kind}"' if kind else "this resource"
            raise SelectorError(f"field label not supported: {name} (for {what}: {', '.join(sorted(known))})")

    def matches(obj: KubeObject) -> bool:
        return all((known[name](obj) == value) != negate for name, value, negate in terms)

    return matches
