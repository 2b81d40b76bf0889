"""Your kubelab_csi for the Chapter 6 lab: only the modules you write live here,
``node/mounting.py`` (6.7, making a volume visible where the kubelet asks: the staging path, then
each pod's path, for filesystem and raw block volumes).

Every other module (the services, the pool, btrfs, loop devices) comes from the reference package:
``pkgutil.extend_path`` appends the reference's directory to ``__path__``, after this one, so
``kubelab_csi.node.mounting`` is *yours* and ``kubelab_csi.services.node`` (which imports it) is the
reference's, built on yours. The lab runs the driver from the lab image with this package first
on its PYTHONPATH.

Grade it: ``uv run nox -s lab-csi -- --impl labs/csi/starter`` (or your copy).
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
if len(__path__) < 2:
    raise ImportError("the reference kubelab_csi is not installed: run `uv sync --all-packages`")
