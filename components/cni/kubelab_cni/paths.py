"""Where the plugin keeps run-time state (all overridable through the environment)."""

from __future__ import annotations

import os

RUN_DIR_ENV = "KUBELAB_CNI_RUN_DIR"
SOCKET_ENV = "KUBELAB_CNI_SOCKET"
DEFAULT_RUN_DIR = "/run/kubelab-cni"


def run_dir() -> str:
    return os.environ.get(RUN_DIR_ENV) or DEFAULT_RUN_DIR


def socket_path() -> str:
    return os.environ.get(SOCKET_ENV) or os.path.join(run_dir(), "daemon.sock")
