"""Label selectors as objects (``metav1.LabelSelector``) and node selector terms, matched against labels."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _requirement(labels: Mapping[str, str], expr: Mapping[str, Any]) -> bool:
    key, op, values = expr.get("key", ""), expr.get("operator", ""), list(expr.get("values") or [])
    present = key in labels
    if op == "In":
        return present and labels[key] in values
    if op == "NotIn":
        return not present or labels[key] not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt") and present and len(values) == 1:
        try:
            have, want = int(labels[key]), int(values[0])
        except ValueError:
            return False
        return have > want if op == "Gt" else have < want
    return False


def matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A ``LabelSelector``: None matches nothing (as upstream for topology spread), {} everything."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    return all(_requirement(labels, e) for e in selector.get("matchExpressions") or [])


def node_selector_term_matches(term: Mapping[str, Any], node_labels: Mapping[str, str], node_name: str) -> bool:
    """One ``NodeSelectorTerm``: all its expressions and fields (``metadata.name``); an empty term matches nothing."""
    exprs = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not exprs and not fields:
        return False
    if not all(_requirement(node_labels, e) for e in exprs):
        return False
    return all(_requirement({"metadata.name": node_name}, f) for f in fields)
