"""Fixtures for the CNI plugin tests live in cni_testkit (a uniquely named module, so the
helpers the tests import never collide with another package's conftest)."""

from cni_testkit import bin_dir, cnitool, conf, make_pod, node, plugin

__all__ = ["bin_dir", "cnitool", "conf", "make_pod", "node", "plugin"]
