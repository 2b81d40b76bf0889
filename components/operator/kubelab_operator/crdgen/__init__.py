"""The CRD generator (book 3.3.1, 3.3.4): typed models plus markers → a structural OpenAPI v3
schema (:mod:`.schema`) → the CustomResourceDefinition (:mod:`.crd`), written and checked by
``kubelab-operator generate [--check]``."""
