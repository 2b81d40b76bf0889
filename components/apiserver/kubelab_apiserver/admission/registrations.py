"""How kube-apiserver is told about the 7.3 admission rules (``rules``), for two of the three ways:

- the ``webhook`` way: a MutatingWebhookConfiguration and a ValidatingWebhookConfiguration whose
  object selector picks ConfigMaps labelled ``by=webhook``, calling the webhooks by URL with the
  CA that signed their certificate;
- the ``policy`` way: a MutatingAdmissionPolicy (an apply configuration built in CEL) and a
  ValidatingAdmissionPolicy (CEL), each bound to ConfigMaps labelled ``by=policy``.

(The ``plugin`` way needs no object: kube-apiserver's --enable-admission-plugins names it.)
"""

from __future__ import annotations

import base64
from typing import Any

from kubelab_apiserver.admission.rules import BY_LABEL, FORBIDDEN, OWNER_ANNOTATION

GROUP_VERSION = "admissionregistration.k8s.io/v1"
NAME = "kubelab-owner"  # every object here has this name
MUTATING_WEBHOOK = "mutate.admission.kubelab.dev"
VALIDATING_WEBHOOK = "validate.admission.kubelab.dev"
# where the webhooks serve (webhook.py); here so that registering them does not import the server
MUTATE_PATH = "/admission/mutate"
VALIDATE_PATH = "/admission/validate"


def _rule(*operations: str) -> dict[str, Any]:
    return {
        "apiGroups": [""],
        "apiVersions": ["v1"],
        "operations": list(operations),
        "resources": ["configmaps"],
        "scope": "Namespaced",
    }


def _selector(way: str) -> dict[str, Any]:
    return {"matchLabels": {BY_LABEL: way}}


def webhook_configurations(base_url: str, ca_pem: bytes, *, failure_policy: str = "Fail") -> list[dict[str, Any]]:
    """Both webhook configurations; ``failure_policy`` Fail: no ConfigMap of theirs goes in unchecked."""
    common = {
        "admissionReviewVersions": ["v1"],
        "sideEffects": "None",
        "failurePolicy": failure_policy,
        "matchPolicy": "Equivalent",
        "timeoutSeconds": 5,
        "objectSelector": _selector("webhook"),
    }

    def hook(name: str, path: str, *operations: str) -> dict[str, Any]:
        client = {"url": base_url + path, "caBundle": base64.b64encode(ca_pem).decode()}
        return {"name": name, "clientConfig": client, "rules": [_rule(*operations)], **common}

    mutating = hook(MUTATING_WEBHOOK, MUTATE_PATH, "CREATE") | {"reinvocationPolicy": "Never"}
    return [
        {
            "apiVersion": GROUP_VERSION,
            "kind": "MutatingWebhookConfiguration",
            "metadata": {"name": NAME},
            "webhooks": [mutating],
        },
        {
            "apiVersion": GROUP_VERSION,
            "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": NAME},
            "webhooks": [hook(VALIDATING_WEBHOOK, VALIDATE_PATH, "CREATE", "UPDATE")],
        },
    ]


# CEL: the keys of data and binaryData, those naming a password, and the first of them.
KEYS = "(has(object.data) ? object.data.map(k, k) : []) + (has(object.binaryData) ? object.binaryData.map(k, k) : [])"
BAD = f"variables.keys.filter(k, k.lowerAscii().contains('{FORBIDDEN}'))"
MESSAGE = "'key \"' + variables.bad.min() + '\" looks like a password: put it in a Secret'"
OWNER_UNSET = f"!has(object.metadata.annotations) || !('{OWNER_ANNOTATION}' in object.metadata.annotations)"
OWNER_APPLY = f'Object{{metadata: Object.metadata{{annotations: {{"{OWNER_ANNOTATION}": request.userInfo.username}}}}}}'


def policies() -> list[dict[str, Any]]:
    """The MutatingAdmissionPolicy and ValidatingAdmissionPolicy with their bindings."""
    match = {"objectSelector": _selector("policy")}
    return [
        {
            "apiVersion": GROUP_VERSION,
            "kind": "MutatingAdmissionPolicy",
            "metadata": {"name": NAME},
            "spec": {
                "failurePolicy": "Fail",
                "reinvocationPolicy": "Never",
                "matchConstraints": {"resourceRules": [_rule("CREATE")]},
                "matchConditions": [{"name": "owner-unset", "expression": OWNER_UNSET}],
                "mutations": [{"patchType": "ApplyConfiguration", "applyConfiguration": {"expression": OWNER_APPLY}}],
            },
        },
        {
            "apiVersion": GROUP_VERSION,
            "kind": "MutatingAdmissionPolicyBinding",
            "metadata": {"name": NAME},
            "spec": {"policyName": NAME, "matchResources": match},
        },
        {
            "apiVersion": GROUP_VERSION,
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": NAME},
            "spec": {
                "failurePolicy": "Fail",
                "matchConstraints": {"resourceRules": [_rule("CREATE", "UPDATE")]},
                "variables": [{"name": "keys", "expression": KEYS}, {"name": "bad", "expression": BAD}],
                "validations": [
                    {"expression": "size(variables.bad) == 0", "messageExpression": MESSAGE, "reason": "Forbidden"}
                ],
            },
        },
        {
            "apiVersion": GROUP_VERSION,
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": NAME},
            "spec": {"policyName": NAME, "validationActions": ["Deny"], "matchResources": match},
        },
    ]
