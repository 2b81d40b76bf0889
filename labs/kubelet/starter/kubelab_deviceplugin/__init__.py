"""Your kubelab_deviceplugin for the Chapter 9 lab: only the modules you write live here,
``allocation.py`` (the preferred allocation: which devices a container gets, keeping devices of one
link group together).

Every other module (the gRPC service, the inventory, CDI, registration with the kubelet) comes from
the reference package: ``pkgutil.extend_path`` appends the reference's directory to ``__path__``,
after this one, so ``kubelab_deviceplugin.allocation`` is *yours* and
``kubelab_deviceplugin.service`` (which calls it) is the reference's. The lab runs the plugin from
the lab image with this package first on its PYTHONPATH.

Grade it: ``uv run nox -s lab-kubelet -- --impl labs/kubelet/starter`` (or your copy).
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
if len(__path__) < 2:
    raise ImportError("the reference kubelab_deviceplugin is not installed: run `uv sync --all-packages`")

RESOURCE = "kubelab.dev/accelerator"
"""The extended resource pods request (``resources.limits``)."""
