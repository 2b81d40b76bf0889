"""The page in a real browser (Debian's chromium, headless, driven by playwright): a report
posted while the page is open shows up on it without a reload, and the next one moves the
student's row on; nothing is fetched from elsewhere."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Page, expect, sync_playwright

from kubelab_cluster.host.browser import LAUNCH_ARGS, chromium

from .conftest import KEY, TOKEN, MakeReport


@pytest.fixture
def served(make_app: Callable[[], FastAPI]) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(make_app(), host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def page(served: str) -> Iterator[Page]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium(), args=LAUNCH_ARGS, headless=True)
        page = browser.new_page()
        elsewhere: list[str] = []
        page.on("request", lambda r: elsewhere.append(r.url) if not r.url.startswith(served) else None)
        yield page
        assert elsewhere == [], f"the page fetched from elsewhere: {elsewhere}"
        browser.close()


def test_a_posted_report_shows_up_without_a_reload(served: str, page: Page, make_report: MakeReport) -> None:
    page.goto(f"{served}/classes/k8s-101?key={KEY}")
    expect(page.locator("#status")).to_have_text("live", timeout=15000)
    loaded_at = page.evaluate("window.kubelabLoadedAt")

    def post(fail_at: int | None) -> None:
        body = make_report("alice", fail_at=fail_at).model_dump_json()
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        assert httpx.post(f"{served}/api/reports", content=body, headers=headers).status_code == 201

    post(4)
    row = page.locator('tr[data-student="alice"][data-lab="cni"]')
    expect(row).to_have_count(1, timeout=10000)
    expect(row.locator("td.stuck")).to_have_text("at #4 test_04_step for 0 min")
    expect(row.locator('td[data-checkpoint="4"]')).to_have_attribute("data-outcome", "failed")
    expect(row.locator('td[data-checkpoint="5"]')).to_have_attribute("data-outcome", "not reached")
    expect(page.locator('section[data-lab="cni"] .summary')).to_contain_text("1 students, 0 done; stuck at #4: 1")

    post(None)
    expect(row.locator("td.stuck")).to_have_text("done", timeout=10000)
    expect(row.locator('td[data-checkpoint="4"]')).to_have_attribute("data-outcome", "passed")
    assert page.evaluate("window.kubelabLoadedAt") == loaded_at, "the page reloaded"
