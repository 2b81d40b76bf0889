"""Every console entry point of the workspace reports a KubelabError the same way (``@entry_point``)."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest

from kubelab_kit.entry import entry_point

REPO = Path(__file__).resolve().parents[3]
# By design not wrapped: the CNI shim is stdlib-only (it starts in ~20 ms on every pod
# sandbox) and answers in the CNI protocol's own error JSON, which the runtime parses; the image
# credential provider is stdlib-only too (a zipapp on the node's python3) and answers the kubelet's
# exec protocol: a response on stdout, or one line on stderr and exit status 1.
EXEMPT = {"kubelab-cni", "kubelab-credential-provider"}
WRAPPER_CODE = entry_point(lambda: 0).__code__


def scripts() -> dict[str, str]:
    found: dict[str, str] = {}
    for pyproject in [REPO / "cluster" / "pyproject.toml", *sorted(REPO.glob("*/*/pyproject.toml"))]:
        with pyproject.open("rb") as fh:
            found.update(tomllib.load(fh).get("project", {}).get("scripts", {}))
    return found


def test_the_workspace_has_its_entry_points() -> None:
    expected = {"kubelab-toolchain", "kubelab-host", "kubelab-protos", "kubelab-cni-agent", "kubelab-labs"}
    assert expected <= set(scripts())


@pytest.mark.parametrize(("name", "target"), sorted(scripts().items()))
def test_entry_point_is_wrapped(name: str, target: str) -> None:
    module, _, attr = target.partition(":")
    main = getattr(importlib.import_module(module), attr)
    wrapped = main.__code__ is WRAPPER_CODE  # the function entry_point returns, not another decorator
    assert wrapped != (name in EXEMPT), f"{name} ({target}): {'not ' if not wrapped else ''}wrapped by @entry_point"
