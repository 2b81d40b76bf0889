"""Namespaces for checkpoints: fresh for each run, labelled as the lab's, deleted at the end.

A namespace left by an earlier (interrupted) run is deleted and waited for first, so a
checkpoint never sees another run's objects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube, objects

PART_OF = {"app.kubernetes.io/part-of": "kube-dev-lab"}


class Namespaces:
    """The factory behind the ``make_namespace`` fixture: ``make_namespace("kubelab-cni-lab")``."""

    def __init__(self, kubectl: Kubectl, lab: str) -> None:
        self.kubectl = kubectl
        self.lab = lab
        self.made: list[str] = []

    def __call__(self, name: str, labels: Mapping[str, str] | None = None) -> str:
        ns = objects.namespace(name, {**PART_OF, "kubelab.dev/lab": self.lab, **(labels or {})})
        self.kubectl.run("delete", "namespace", name, "--ignore-not-found", "--wait=true", timeout=180)
        kube.apply(self.kubectl, ns)
        self.made.append(name)
        return name

    def cleanup(self) -> None:
        """Start deleting every namespace made (not waited for: the next run waits if it must)."""
        for name in reversed(self.made):
            self.kubectl.run("delete", "namespace", name, "--wait=false", "--ignore-not-found", check=False)
        self.made.clear()


MakeNamespace = Callable[..., str]
