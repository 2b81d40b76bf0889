"""Your kubelab_operator for the Chapter 3 lab: only the modules you write live here,
``schedule.py`` (3.1, the missed run) and ``webhooks/validation.py`` (3.3.3, the validation rules).

Every other module (the controller, the webhooks' server, the API types, the CLI...) comes from
the reference package: ``pkgutil.extend_path`` appends the reference's directory to
``__path__``, after this one, so ``kubelab_operator.schedule`` is *yours* and
``kubelab_operator.controller`` (which imports it) is the reference's, built on yours. The lab
runs this package in the operator's pods (the lab image with it first on PYTHONPATH).

Grade it: ``uv run nox -s lab-operator -- --impl labs/operator/starter`` (or your copy).
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
if len(__path__) < 2:
    raise ImportError("the reference kubelab_operator is not installed: run `uv sync --all-packages`")
