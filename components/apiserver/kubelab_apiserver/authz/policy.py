"""The webhook's policy: a small, ordered list of rules, each allowing or denying what it matches;
what no rule matches gets no opinion, and the next authorizer (RBAC) decides.

1. **deny**: nobody deletes a namespace the policy protects (by name: a SubjectAccessReview
   carries the request's attributes, not the object's labels).
2. **allow**: group ``kubelab:auditors`` may get, list and watch anything but Secrets, cluster-wide.
3. **allow**: the user ``kubelab:oncall`` may delete pods in namespaces starting with ``kubelab-``.

A denial stops the chain (RBAC is not asked); an allow too. Reasons go back to the user in
kube-apiserver's 403 message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Verdict = Literal["allow", "deny", "none"]
READ = ("get", "list", "watch")


@dataclass(frozen=True)
class Rule:
    name: str
    verdict: Literal["allow", "deny"]
    matches: Callable[[dict[str, Any]], bool]
    reason: str


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str = ""

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {"allowed": self.verdict == "allow"}
        if self.verdict == "deny":
            out["denied"] = True
        if self.reason:
            out["reason"] = self.reason
        return out


def _resource(spec: dict[str, Any]) -> dict[str, Any]:
    return spec.get("resourceAttributes") or {}


def default_rules(protected_namespaces: Sequence[str] = ("kubelab-protected",)) -> list[Rule]:
    return [
        Rule(
            "protected-namespaces",
            "deny",
            lambda s: (
                _resource(s).get("resource") == "namespaces"
                and _resource(s).get("verb") == "delete"
                and _resource(s).get("name") in protected_namespaces
            ),
            "namespaces of the kubelab policy's protected list may not be deleted",
        ),
        Rule(
            "auditors-read",
            "allow",
            lambda s: (
                "kubelab:auditors" in (s.get("groups") or [])
                and _resource(s).get("verb") in READ
                and _resource(s).get("resource") != "secrets"
                and bool(_resource(s))
            ),
            "kubelab auditors may read everything but Secrets",
        ),
        Rule(
            "oncall-pods",
            "allow",
            lambda s: (
                s.get("user") == "kubelab:oncall"
                and _resource(s).get("resource") == "pods"
                and _resource(s).get("verb") == "delete"
                and str(_resource(s).get("namespace", "")).startswith("kubelab-")
            ),
            "kubelab on-call may delete pods in kubelab- namespaces",
        ),
    ]


def decide(rules: Sequence[Rule], spec: dict[str, Any]) -> Decision:
    for rule in rules:
        if rule.matches(spec):
            return Decision(rule.verdict, f"{rule.name}: {rule.reason}")
    return Decision("none")
