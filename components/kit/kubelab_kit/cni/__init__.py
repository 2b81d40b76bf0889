"""How a container runtime invokes a CNI plugin (libcni's ``invoke`` package), standard library only.

- :mod:`kubelab_kit.cni.invoke`: exec a plugin with the ``CNI_*`` environment and the
  configuration on stdin; its result, or the spec's error document as a
  :class:`~kubelab_kit.cni.invoke.PluginError` (``code``, ``msg``, ``details``).
- :mod:`kubelab_kit.cni.conflist`: the node's network configuration list run as a runtime runs
  it (libcni's ``AddNetworkList``/``DelNetworkList``: ``prevResult``, capability arguments);
- :mod:`kubelab_kit.cni.netns`: named network namespaces (``ip netns``, under
  ``/var/run/netns``) for tests, benchmarks and runtimes.

Used by the CNI plugin's tests and benchmark, and by the CRI chapter's runtime. It imports
no component.
"""

from __future__ import annotations

from kubelab_kit.cni.invoke import Call, PluginError, PluginNotFound, exec_plugin, find_in_path, invoke
from kubelab_kit.cni.netns import NETNS_DIR, Netns, unique_name

__all__ = [
    "NETNS_DIR",
    "Call",
    "Netns",
    "PluginError",
    "PluginNotFound",
    "exec_plugin",
    "find_in_path",
    "invoke",
    "unique_name",
]
