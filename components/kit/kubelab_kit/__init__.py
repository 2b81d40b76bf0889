"""kube-dev-lab's shared kit: what every component and build step would otherwise write again.

- :mod:`kubelab_kit.errors`: :class:`~kubelab_kit.errors.KubelabError`, the one error base
  ("what broke, the command, its output, the fix").
- :mod:`kubelab_kit.entry`: :func:`~kubelab_kit.entry.entry_point`, how every console entry
  point reports a :class:`KubelabError` (the same way everywhere).
- :mod:`kubelab_kit.files`: atomic writes, symlink swaps, directories staged then renamed into place.
- :mod:`kubelab_kit.signals`: run until SIGTERM/SIGINT.
- :mod:`kubelab_kit.logs`: one logging setup for daemons and tools.
- :mod:`kubelab_kit.cni`: how a runtime invokes a CNI plugin (libcni's ``invoke``).
- :mod:`kubelab_kit.grpc` (extra ``grpc``): serving gRPC on a unix socket, kubelet plugin registration.

Standard library only, except :mod:`kubelab_kit.grpc`.
"""
