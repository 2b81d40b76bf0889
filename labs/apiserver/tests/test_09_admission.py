"""Checkpoint 9 (book 7.3, 7.4): an aggregated server admits its own objects: kube-apiserver's
webhooks and admission policies never see them."""

from __future__ import annotations

import json

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube

from .aggregatedlab import GROUP, VERSION, book, clear

POLICY = "kubelab-apiserver-lab-deny-books"


def test_09_own_admission_chain(kubectl: Kubectl, namespace: str) -> None:
    """A Library that bans a title makes creating a Book with it 403 Forbidden, with the reason; a Book
    in a namespace that does not exist is 404 (NamespaceLifecycle); a ValidatingAdmissionPolicy of
    kube-apiserver that denies every Book changes nothing, because aggregated requests are proxied
    before kube-apiserver's admission.

    Hint (7.3): kubelab_apiserver/aggregated/admission.py; the plugins run in registry.py, mutating
    ones before the schema check and validating ones after.
    """
    clear(kubectl, namespace)
    library = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Library",
        "metadata": {"name": "kubelab-lab-central"},
        "spec": {"bannedTitles": ["Forbidden Book"]},
    }
    kube.apply(kubectl, library)
    try:
        refused = kubectl.attempt("create", "-f", "-", stdin=json.dumps(book("banned", namespace, "Forbidden Book")))
        assert refused.returncode != 0 and "Forbidden" in refused.stderr, refused.stderr
        assert 'the title "Forbidden Book" is banned by library "kubelab-lab-central"' in refused.stderr
    finally:
        kube.delete(kubectl, library)
    nowhere = kubectl.attempt("create", "-f", "-", stdin=json.dumps(book("lost", "kubelab-no-such-namespace")))
    assert nowhere.returncode != 0 and 'namespaces "kubelab-no-such-namespace" not found' in nowhere.stderr

    policy = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": POLICY},
        "spec": {
            "failurePolicy": "Fail",
            "validations": [{"expression": "false", "message": "no books"}],
            "matchConstraints": {
                "resourceRules": [
                    {"apiGroups": [GROUP], "apiVersions": ["*"], "operations": ["CREATE"], "resources": ["books"]}
                ]
            },
        },
    }
    binding = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": POLICY},
        "spec": {"policyName": POLICY, "validationActions": ["Deny"]},
    }
    kube.apply(kubectl, policy, binding)
    try:
        made = kubectl.attempt("create", "-f", "-", stdin=json.dumps(book("unpoliced", namespace)))
        assert made.returncode == 0, f"kube-apiserver's policy reached an aggregated resource: {made.stderr}"
    finally:
        kube.delete(kubectl, binding, policy)
