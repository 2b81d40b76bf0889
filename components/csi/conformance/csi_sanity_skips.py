"""What ``nox -s csi-sanity`` does not run, and why: one table of ``-ginkgo.skip`` patterns.

csi-sanity skips on its own every group the driver does not advertise (ControllerPublish, the
group controller, snapshot metadata, ModifyVolume); those skips print with csi-sanity's message.
"""

from __future__ import annotations

from kubelab_labkit.ginkgo import Skip

SKIPS: list[Skip] = []


def active_skips() -> list[Skip]:
    return [s for s in SKIPS if s.applies()]
