"""The agent's errors: what a user of the lab can act on (rendered by the entry point)."""

from __future__ import annotations

from kubelab_kit.errors import KubelabError


class AgentError(KubelabError):
    area = "cni-agent"
