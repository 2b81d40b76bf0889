"""A component's own Kubernetes manifests (``components/<x>/deploy/*.yaml``), rendered and applied.

Manifests are templates with ``${NAME}`` placeholders (``string.Template``): every
placeholder must be given and every value given must be used, so a renamed variable
fails loudly instead of deploying ``${IMAGE}``.
"""

from __future__ import annotations

from pathlib import Path
from string import Template

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_cluster.workspace import component_dir
from kubelab_labkit import kube


def manifest_path(component: str, name: str) -> Path:
    return component_dir(component) / "deploy" / name


def placeholders(text: str) -> set[str]:
    return {
        m.group("named") or m.group("braced")
        for m in Template.pattern.finditer(text)
        if m.group("named") or m.group("braced")
    }


def render(component: str, name: str, **values: str) -> str:
    """The manifest with every placeholder filled; ``KeyError``/``ValueError`` name what is missing or extra."""
    path = manifest_path(component, name)
    text = path.read_text()
    wanted = placeholders(text)
    missing, extra = wanted - set(values), set(values) - wanted
    if missing or extra:
        raise ValueError(f"{path}: missing values {sorted(missing)}, unused values {sorted(extra)}")
    return Template(text).substitute(values)


def apply_component(kubectl: Kubectl, component: str, name: str, **values: str) -> str:
    """Render ``components/<component>/deploy/<name>`` and apply it."""
    return kube.apply(kubectl, render(component, name, **values))
