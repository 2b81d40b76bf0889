"""The site's mkdocs plugin (``kubelab`` in docs/mkdocs.yml): serves the pinned mermaid.js.

It adds the cached ``mermaid.min.js`` to the site's files and scripts, so material finds
``mermaid`` defined and never reaches for its CDN.
"""

from __future__ import annotations

from typing import Any

from mkdocs.config.config_options import ExtraScriptValue
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files

from kubelab_docs import assets


class KubelabPlugin(BasePlugin):  # type: ignore[type-arg,no-untyped-call]
    def on_config(self, config: MkDocsConfig, **_: Any) -> MkDocsConfig:
        self.mermaid = assets.mermaid()
        if not any(str(script) == assets.SITE_PATH for script in config.extra_javascript):
            config.extra_javascript.append(ExtraScriptValue(assets.SITE_PATH))
        return config

    def on_files(self, files: Files, config: MkDocsConfig, **_: Any) -> Files:
        if files.get_file_from_path(assets.SITE_PATH) is None:
            files.append(File.generated(config, assets.SITE_PATH, abs_src_path=str(self.mermaid)))
        return files
