"""Every lab's checkpoints load the lab kit (labs/labkit, package ``kubelab_labkit``) as a pytest plugin.

See labs/labkit/README.md for its options (``--impl``, ``--kubeconfig``), fixtures and helpers.
"""

pytest_plugins = ["kubelab_labkit.plugin"]
