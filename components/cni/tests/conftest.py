"""Fixtures for the CNI plugin tests live in cni_testkit (a uniquely named module, so the
helpers the tests import never collide with another package's conftest).

pytest runs with ``--import-mode=importlib``, which puts no test directory on ``sys.path``;
this one goes there so that the tests (and this file) can ``import cni_testkit``."""

import sys
from pathlib import Path

if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

from cni_testkit import bin_dir, cnitool, conf, make_pod, node, plugin

# The Chapter 2 client's fake-API-server fixtures, for the node agent's informer tests
# (test_agent_nodewatch.py overrides ``fake`` to serve nodes).
from kubelab_client.testing.fixtures import api, stop

__all__ = ["api", "bin_dir", "cnitool", "conf", "make_pod", "node", "plugin", "stop"]
