"""Your kubelab_cri for the Chapter 4 lab: only the modules you write live here,
``runtime/crilog.py`` (4.3, the container log files the kubelet reads for ``kubectl logs``).

Every other module (the sandboxes, the containers and their monitors, the image store, the
streaming server) comes from the reference package: ``pkgutil.extend_path`` appends the
reference's directory to ``__path__``, after this one, so ``kubelab_cri.runtime.crilog`` is
*yours* and ``kubelab_cri.runtime.shim`` (which imports it) is the reference's, built on yours.
The lab installs this package on the swappable worker, first on the runtime's PYTHONPATH.

Grade it: ``uv run nox -s lab-cri -- --impl labs/cri/starter`` (or your copy).
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
if len(__path__) < 2:
    raise ImportError("the reference kubelab_cri is not installed: run `uv sync --all-packages`")
