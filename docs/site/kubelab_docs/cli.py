"""``kubelab-docs``: the documentation site.

- ``kubelab-docs build``: mkdocs build --strict into the cache.
- ``kubelab-docs serve [--address HOST:PORT]``: mkdocs serve, live reload.
- ``kubelab-docs translations``: every English page has its Chinese counterpart (same code blocks).
- ``kubelab-docs browse``: the built site in headless chromium (builds it first unless --no-build).
- ``kubelab-docs outputs [--require] [--write]``: the guides' marked output blocks against what the
  checkpoints printed in this checkout's last lab runs (``--write`` puts the captures in).
- ``kubelab-docs check [--require-outputs]``: all of them, what ``nox -s docs`` and CI run.
"""

from __future__ import annotations

import argparse
import time

from kubelab_cluster.pins import repo_root
from kubelab_cluster.progress import console, step
from kubelab_docs import browser, build, outputs, translations
from kubelab_docs.errors import DocsError
from kubelab_docs.site import TRANSLATED, counterpart, english_pages, site_dir
from kubelab_kit.entry import entry_point
from kubelab_labkit.outputs import captures_dir


def cmd_build(_: argparse.Namespace) -> int:
    build.build()
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    return build.serve(args.address)


def cmd_translations(_: argparse.Namespace) -> int:
    with step(f"docs: every page has its {TRANSLATED} counterpart with the same code blocks") as s:
        pages = english_pages()
        findings = translations.check(pages, repo_root())
        s.note = f"{len(pages)} pages, {len(findings)} findings"
    if findings:
        raise DocsError(
            f"{len(findings)} problems between the English pages and their translations",
            output="\n".join(str(f) for f in findings),
            fix=f"write or update <page>.{TRANSLATED}.md: prose translated, code blocks and markers as in English",
        )
    return 0


def cmd_outputs(args: argparse.Namespace) -> int:
    root = repo_root()
    pages = [p for page in english_pages() for p in (page, counterpart(page)) if (root / p).is_file()]
    if args.write:
        rewritten = outputs.write(pages, root)
        console.print(f"outputs: {len(rewritten)} pages rewritten from {captures_dir()}")
    with step("docs: output blocks against what the checkpoints printed") as s:
        findings, compared, missing = outputs.check(pages, root, require=args.require)
        s.note = f"{compared} blocks compared, {len(missing)} captures missing"
    if missing and not args.require:
        console.print(f"not captured yet (run their labs; CI requires them): {', '.join(missing)}")
    if findings:
        raise DocsError(
            f"{len(findings)} output blocks differ from what the checkpoints print",
            output="\n".join(str(f) for f in findings),
            fix="run the lab, then `uv run kubelab-docs outputs --write` and review the pages (both languages)",
        )
    return 0


def cmd_browse(args: argparse.Namespace) -> int:
    site = site_dir() if args.no_build else build.build()
    if not (site / "index.html").is_file():
        raise DocsError(f"no site in {site}", fix="uv run kubelab-docs build")
    started = time.monotonic()
    report = browser.browse(site)
    for name, ok, detail in report.checks:
        mark = "[green]✓[/green]" if ok else "[red]✗[/red]"
        console.print(f"{mark} {name}: {detail}")
    console.print(f"screenshots: {browser.screenshots_dir()} ({len(report.screenshots)})")
    console.print(f"browser checks: {len(report.checks) - len(report.failed)} of {len(report.checks)} passed "
                  f"in {time.monotonic() - started:.1f} s")  # fmt: skip
    if report.failed:
        raise DocsError(
            f"{len(report.failed)} browser checks failed: {', '.join(name for name, _, _ in report.failed)}",
            fix="open the screenshots, or serve the site (uv run nox -s docs-serve) and look",
        )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    cmd_translations(args)
    args.require, args.write = args.require_outputs, False
    cmd_outputs(args)
    args.no_build = False
    return cmd_browse(args)


@entry_point
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kubelab-docs", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="build the site strictly into the cache").set_defaults(func=cmd_build)
    serve = sub.add_parser("serve", help="serve the site with live reload")
    serve.add_argument("--address", default="127.0.0.1:8000")
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("translations", help="compare every page with its translation").set_defaults(func=cmd_translations)
    browse = sub.add_parser("browse", help="check the built site in headless chromium")
    browse.add_argument("--no-build", action="store_true", help="check the site already built")
    browse.set_defaults(func=cmd_browse)
    out = sub.add_parser("outputs", help="compare the guides' output blocks with the checkpoints' captures")
    out.add_argument("--require", action="store_true", help="a missing capture is an error (CI, after the labs)")
    out.add_argument("--write", action="store_true", help="put the captures into the pages first")
    out.set_defaults(func=cmd_outputs)
    check = sub.add_parser("check", help="translations, outputs, build, browser: what nox -s docs runs")
    check.add_argument("--require-outputs", action="store_true", help="every marked output must be captured")
    check.set_defaults(func=cmd_check)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result
