"""Where the site comes from and where it goes.

The pages are the repository's own Markdown files (``docs/mkdocs.yml`` has the repository as
its ``docs_dir`` and excludes everything else); the built site and the downloaded assets live
in the cache, outside the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

from kubelab_cluster.cache import cache_root, checkout_key
from kubelab_cluster.pins import repo_root
from kubelab_kit.files import swap_symlink

LANGUAGES = ("en", "zh")  # the default first; docs/mkdocs.yml's i18n plugin lists the same
TRANSLATED = "zh"


def config_file() -> Path:
    return repo_root() / "docs" / "mkdocs.yml"


def site_dir() -> Path:
    """The built site: ``$KUBELAB_SITE_DIR`` or ``<cache>/docs/site-<checkout>``."""
    return Path(os.environ.get("KUBELAB_SITE_DIR") or cache_root() / "docs" / f"site-{checkout_key()}")


def docs_cache() -> Path:
    return cache_root() / "docs"


# What the site is made of: these entries of the repository, linked into one source folder.
SOURCES = ("README.md", "README.zh.md", "docs", "labs", "components", "kubelet-plugins", "cluster")


def source_dir() -> Path:
    """mkdocs' ``docs_dir``: ``<cache>/docs/source-<checkout>``, symlinks to the repository's entries."""
    return docs_cache() / f"source-{checkout_key()}"


def stage() -> Path:
    """(Re)make the source folder's links; returns it."""
    root, source = repo_root(), source_dir()
    source.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.name not in SOURCES:
            entry.unlink()
    for name in SOURCES:
        if (root / name).exists():
            swap_symlink(source / name, root / name)
    return source


def environment() -> dict[str, str]:
    """What docs/mkdocs.yml reads: where the source is and where the site goes."""
    return {"KUBELAB_DOCS_SOURCE": str(stage()), "KUBELAB_SITE_DIR": str(site_dir())}


def counterpart(page: Path, language: str = TRANSLATED) -> Path:
    """``README.md`` → ``README.zh.md``: the page in ``language``, beside it."""
    return page.with_name(f"{page.stem}.{language}{page.suffix}")


def is_translation(page: Path) -> bool:
    suffixes = page.suffixes
    return len(suffixes) >= 2 and suffixes[-2].lstrip(".") in LANGUAGES[1:]


def english_pages() -> list[Path]:
    """The site's English pages (relative to the repository), as mkdocs finds them."""
    from mkdocs.config import load_config
    from mkdocs.structure.files import get_files

    os.environ.update(environment())
    config = load_config(str(config_file()))
    files = [f for f in get_files(config) if f.is_documentation_page()]
    pages = [Path(f.src_uri) for f in files if f.inclusion.is_included()]  # type: ignore[no-untyped-call]
    return sorted(p for p in pages if not is_translation(p))
