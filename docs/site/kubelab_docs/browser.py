"""The built site in a real browser: Debian's chromium, headless, driven by playwright.

Served over HTTP from the build (search needs it), each check is one thing a reader does:
the home page shows the lab table, a chapter page draws its diagram in each language, the
language switch leads to the same page in Chinese, the search box finds a page. A
screenshot of each page goes to the cache as the run's artifact.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from kubelab_cluster.host.browser import LAUNCH_ARGS, chromium
from kubelab_docs.site import docs_cache

CHAPTER = "labs/scheduler/"  # a chapter page with a diagram (a scheduling cycle)
SEARCH_TERM = "informer"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def served(site: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Report:
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    screenshots: list[Path] = field(default_factory=list)

    def record(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append((name, ok, detail))

    @property
    def failed(self) -> list[tuple[str, bool, str]]:
        return [c for c in self.checks if not c[1]]


def screenshots_dir() -> Path:
    return docs_cache() / "screenshots"


def browse(site: Path) -> Report:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    report = Report()
    shots = screenshots_dir()
    shots.mkdir(parents=True, exist_ok=True)
    with served(site) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium(), args=LAUNCH_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        external: list[str] = []
        page.on(
            "request",
            lambda request: external.append(request.url) if not request.url.startswith(base) else None,
        )

        def shot(name: str) -> None:
            path = shots / f"{name}.png"
            page.screenshot(path=str(path), full_page=False)
            report.screenshots.append(path)

        def check(name: str, run: Callable[[], str]) -> None:
            try:
                report.record(name, True, run())
            except (AssertionError, PlaywrightError) as exc:
                report.record(name, False, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)

        def home() -> str:
            page.goto(base)
            rows = page.locator("table").first.locator("tbody tr")
            assert rows.count() >= 10, f"the lab table has {rows.count()} rows"
            page.locator(f"table a[href*='{CHAPTER}']").first.wait_for(timeout=5000)
            shot("home-en")
            return f"{rows.count()} labs in the table"

        def chapter(language: str) -> str:
            prefix = "" if language == "en" else f"{language}/"
            page.goto(f"{base}{prefix}{CHAPTER}")
            assert page.locator("html").get_attribute("lang") == language, "the page's language"
            # material draws each ```mermaid <pre> into a <div class="mermaid"> (a closed shadow root)
            page.locator("div.mermaid").first.wait_for(timeout=15000)
            page.wait_for_function("() => document.querySelectorAll('pre.mermaid').length === 0", timeout=15000)
            heights = page.eval_on_selector_all("div.mermaid", "els => els.map(e => e.getBoundingClientRect().height)")
            assert heights and min(heights) > 40, f"diagram heights {heights}"
            page.locator("div.mermaid").first.scroll_into_view_if_needed()
            shot(f"chapter-{language}")
            return f"{page.title()!r}, {len(heights)} diagrams drawn"

        def switch() -> str:
            page.goto(f"{base}{CHAPTER}")
            page.locator(".md-header__option .md-select").first.hover()
            page.locator("a.md-select__link[hreflang='zh']").first.click()
            page.wait_for_url(f"{base}zh/{CHAPTER}", timeout=5000)
            return page.url

        def search() -> str:
            page.goto(base)
            page.locator("label.md-search__icon, .md-search__input").first.click()
            page.locator("input.md-search__input").fill(SEARCH_TERM)
            results = page.locator(".md-search-result__item")
            results.first.wait_for(timeout=15000)
            shot("search")
            return f"{results.count()} results for {SEARCH_TERM!r}"

        check("home page: the lab table", home)
        check("chapter page in English: diagram drawn", lambda: chapter("en"))
        check("chapter page in Chinese: diagram drawn", lambda: chapter("zh"))
        check("language switch to Chinese", switch)
        check("search box", search)
        report.record("no script errors", not errors, "; ".join(errors[:3]) or "none")
        report.record("nothing fetched from elsewhere", not external, "; ".join(sorted(set(external))[:3]) or "none")
        browser.close()
    return report
