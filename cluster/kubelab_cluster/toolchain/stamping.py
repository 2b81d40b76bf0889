"""Version stamping: the ``-X`` linker flags each upstream project sets in its release builds.

Kubernetes' ``hack/lib/version.sh`` writes six keys into two packages
(``k8s.io/client-go/pkg/version`` and ``k8s.io/component-base/version``); a binary
built without them reports ``v0.0.0`` and kubeadm refuses it. We build from the
module zip the proxy serves, which carries no git metadata, so:

- ``gitCommit`` is the first 40 hex digits of the module's content hash (the ``h1:``
  sum recorded in go.sum), a stable fingerprint of exactly the source we built;
- ``gitTreeState`` is ``clean`` (the zip is verified against the checksum database),
  or ``dirty`` for a custom build;
- ``buildDate`` is the module's publication time from the proxy, the analogue of
  ``SOURCE_DATE_EPOCH``, so two builds of one version are byte-for-byte comparable.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Stamp:
    """What a build is stamped with."""

    version: str  # e.g. v1.37.2 (or a custom gitVersion)
    commit: str  # 40 hex digits
    tree_state: str  # clean | dirty
    build_date: str  # RFC 3339, UTC

    @property
    def major_minor(self) -> tuple[str, str]:
        m = re.match(r"v?(\d+)\.(\d+)", self.version)
        if not m:
            raise ValueError(f"version {self.version!r} is not semantic (vMAJOR.MINOR.PATCH)")
        return m.group(1), m.group(2)


def commit_from_sum(h1_sum: str) -> str:
    """40 hex digits derived from a go.sum ``h1:`` hash."""
    if not h1_sum.startswith("h1:"):
        raise ValueError(f"unexpected module sum {h1_sum!r}")
    return base64.b64decode(h1_sum[3:]).hex()[:40]


KUBE_VERSION_PACKAGES = ("k8s.io/client-go/pkg/version", "k8s.io/component-base/version")


def kube_ldflags(stamp: Stamp) -> list[str]:
    """The ``-X`` flags of Kubernetes' hack/lib/version.sh (``kube::version::ldflags``)."""
    major, minor = stamp.major_minor
    values = {
        "gitVersion": stamp.version,
        "gitMajor": major,
        "gitMinor": minor,
        "gitCommit": stamp.commit,
        "gitTreeState": stamp.tree_state,
        "buildDate": stamp.build_date,
    }
    return [f"-X {pkg}.{key}={value}" for pkg in KUBE_VERSION_PACKAGES for key, value in values.items()]


def x_flags(values: dict[str, str]) -> list[str]:
    return [f"-X {symbol}={value}" for symbol, value in values.items()]
