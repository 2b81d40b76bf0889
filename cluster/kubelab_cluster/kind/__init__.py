"""The one kind cluster: create or reuse, the default pod network, health, delete."""
