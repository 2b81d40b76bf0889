"""Where build outputs are cached: outside the repository, keyed by version and content.

``$KUBELAB_CACHE`` (default ``~/.cache/kube-dev-lab``) holds:

- ``go/mod`` and ``go/build``: Go's module and build caches (GOMODCACHE, GOCACHE);
- ``toolchain/<artifact>/<version>-<key>/``: one finished artifact each, whose key
  hashes everything that went into it (recipe, pins, Go version);
- ``toolchain/modules/<workspace>-<key>/``: the generated Go wrapper modules.

A fresh clone on the same machine reuses all of it; a new machine rebuilds it.
Files and folders appear atomically through :mod:`kubelab_kit.files`.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from kubelab_cluster.pins import repo_root


def cache_root() -> Path:
    root = os.environ.get("KUBELAB_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "kube-dev-lab"
    )
    return Path(root).resolve()


def content_key(*parts: Any, length: int = 12) -> str:
    """A short, stable hash of JSON-serialisable parts (dict key order does not matter)."""
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:length]


def checkout_key() -> str:
    """A short key of this checkout's path: cache folders one clone writes (the docs site, the lab
    outputs it captures) never mix with another clone's."""
    return content_key(str(repo_root()), length=8)
