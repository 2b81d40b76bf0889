"""Your kubelab_apiserver for the Chapter 7 lab: only the modules you write live here,
``admission/rules.py`` (7.3, the rule kube-apiserver's admission webhook enforces) and
``auth/requestheader.py`` (7.4, when to believe the front proxy's ``X-Remote-User`` headers).

Every other module (the REST stores, discovery, storage, the other authenticators) comes from the
reference package: ``pkgutil.extend_path`` appends the reference's directory to ``__path__``,
after this one, so ``kubelab_apiserver.auth.requestheader`` is *yours* and
``kubelab_apiserver.auth.authenticator`` (which imports it) is the reference's, built on yours. The
lab runs the webhooks and the aggregated server from the lab image with this package first on its PYTHONPATH.

Grade it: ``uv run nox -s lab-apiserver -- --impl labs/apiserver/starter`` (or your copy).
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
if len(__path__) < 2:
    raise ImportError("the reference kubelab_apiserver is not installed: run `uv sync --all-packages`")
