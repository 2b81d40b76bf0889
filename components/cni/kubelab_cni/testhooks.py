"""Fault injection for tests: ``KUBELAB_CNI_TEST_CRASH_AFTER=<stage>`` kills the process doing
the work (the plugin process, or the daemon) with SIGKILL right after ``stage`` of an ADD.

Stages: ``reserve`` (address reserved), ``veth`` (pair created), ``configure`` (container
side configured), ``masquerade`` (NAT rule written). Unset in production, this is a no-op.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping

CRASH_ENV = "KUBELAB_CNI_TEST_CRASH_AFTER"
STAGES = ("reserve", "veth", "configure", "masquerade")


def crash_point(env: Mapping[str, str], stage: str) -> None:
    if env.get(CRASH_ENV) == stage:
        os.kill(os.getpid(), signal.SIGKILL)
