"""Your kubelab_credentialprovider for the Chapter 9 lab: only the modules you write live here,
``credentials.py`` (which registry an image is pulled from, and the credentials the answer gives).

The lab builds the provider the kubelet runs (a zipapp on the node's python3) from the reference
package with your modules laid over it: ``kubelab_credentialprovider.credentials`` is *yours*,
``protocol`` and ``cli`` are the reference's. This ``__init__`` is not taken into it; here
``pkgutil.extend_path`` lets the rest of the reference be imported beside yours.

Grade it: ``uv run nox -s lab-kubelet -- --impl labs/kubelet/starter`` (or your copy).
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
if len(__path__) < 2:
    raise ImportError("the reference kubelab_credentialprovider is not installed: run `uv sync --all-packages`")
