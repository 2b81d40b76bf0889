"""The build step that generates the Python gRPC stubs (``kubelab-protos generate``).

It reads the ``.proto`` files of the Go modules pinned in ``cluster/versions.toml`` from
the module cache (through :class:`~kubelab_cluster.toolchain.gotool.GoRunner`), compiles
them with grpcio-tools' protoc, and installs the result as the package
``kubelab_protos.gen``: by default into the stubs package's folder
``components/protos/kubelab_protos/gen/``, found from :func:`kubelab_cluster.pins.repo_root`.

The stubs package (``kubelab_protos``) is runtime only; this package never imports it.
The two agree on one thing only: a folder holding ``__init__.py`` is a generated
``kubelab_protos.gen`` (the generator writes it last).

- :mod:`.sources`: the proto sources (module, pin, file, Python package, proto package).
- :mod:`.inputs`: locating each module and reading its file, or an override.
- :mod:`.protoc`: staging the inputs and running protoc; errors name the real file.
- :mod:`.stamp`: the cache key and ``.stamp.json``.
- :mod:`.install`: putting a generation in place, rewriting only changed files.
- :mod:`.generate`: :func:`~.generate.generate` and its :class:`~.generate.Result`.
- :mod:`.descriptors`: the services and method paths a generation serves.
- :mod:`.errors`: :class:`~.errors.ProtosError`.
- :mod:`.cli`: ``kubelab-protos generate`` / ``list``.
"""
