"""VERSION: the spec versions this plugin speaks."""

from __future__ import annotations

import json

from kubelab_cni.protocol import CURRENT_VERSION, SUPPORTED_VERSIONS, Outcome


def version_command(stdin: bytes) -> Outcome:
    asked = CURRENT_VERSION
    try:
        doc = json.loads(stdin) if stdin.strip() else {}
    except ValueError:
        doc = {}
    if isinstance(doc, dict) and isinstance(doc.get("cniVersion"), str):
        asked = doc["cniVersion"]
    return Outcome.success({"cniVersion": asked, "supportedVersions": list(SUPPORTED_VERSIONS)})
