"""What this extender decides, from node labels an operator sets:

- filter: a node labelled ``kubelab.dev/extender-filter=reject`` is refused, with that reason;
- prioritize: ``kubelab.dev/extender-score`` (0 to 10) is the node's priority, 0 without it;
- bind: the pod is bound through ``pods/binding`` (UID precondition) with the annotation
  ``kubelab.dev/bound-by: kubelab-extender``, which the API server copies onto the pod.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubelab_scheduler.extender.protocol import MAX_PRIORITY

FILTER_LABEL = "kubelab.dev/extender-filter"
SCORE_LABEL = "kubelab.dev/extender-score"
BOUND_BY = "kubelab.dev/bound-by"
NAME = "kubelab-extender"


def _labels(node: Mapping[str, Any] | None) -> dict[str, str]:
    return dict(((node or {}).get("metadata") or {}).get("labels") or {})


def rejection(node: Mapping[str, Any] | None) -> str | None:
    if _labels(node).get(FILTER_LABEL) == "reject":
        return f"rejected by {NAME}: node labelled {FILTER_LABEL}=reject"
    return None


def priority(node: Mapping[str, Any] | None) -> int:
    try:
        value = int(_labels(node).get(SCORE_LABEL, "0"))
    except ValueError:
        return 0
    return max(0, min(MAX_PRIORITY, value))
