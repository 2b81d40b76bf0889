"""Your kubelab_dra for the Chapter 9 lab: only the modules you write live here, ``allocation.py``
(which devices of a claim's allocation this node prepares, and what it refuses).

Every other module (the DRA gRPC service, the ResourceSlice, CDI specs, the checkpoint, registration
with the kubelet) comes from the reference package: ``pkgutil.extend_path`` appends the reference's
directory to ``__path__``, after this one, so ``kubelab_dra.allocation`` is *yours* and
``kubelab_dra.preparer`` (which calls it) is the reference's. The lab runs the driver from the lab
image with this package first on its PYTHONPATH.

Grade it: ``uv run nox -s lab-kubelet -- --impl labs/kubelet/starter`` (or your copy).
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
if len(__path__) < 2:
    raise ImportError("the reference kubelab_dra is not installed: run `uv sync --all-packages`")

DRIVER = "dra.kubelab.dev"
"""The driver's name: in ResourceSlices, allocation results, DeviceClass selectors and attribute names."""

CDI_KIND = "dra.kubelab.dev/accelerator"
"""The CDI kind of the devices the driver prepares (one spec file per prepared claim)."""
