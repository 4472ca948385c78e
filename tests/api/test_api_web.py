"""The web page in a real headless Chromium against the API on loopback, over the real index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import KEYS, RESTRICTED_VALUES, XSS_TEXT, Corpus
from playwright.sync_api import Page, expect, sync_playwright

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def page(base_url: str) -> Iterator[Page]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            page.goto(base_url)
            yield page
            context.close()
        finally:
            browser.close()


def sign_in(page: Page, role: str) -> None:
    page.fill("#key", KEYS[role])
    page.fill("#justification", "Operation Web, tasking 7")
    page.click("#login button[type=submit]")
    expect(page.locator("#who")).to_contain_text(role)
    expect(page.locator("#status")).to_contain_text("matching report")


def test_search_facets_clusters_and_report_view(page: Page, corpus: Corpus) -> None:
    sign_in(page, "analyst")
    page.fill("#q", "bridge")
    page.click("#search button[type=submit]")
    expect(page.locator("#status")).to_contain_text("3 matching reports in 2 clusters")
    expect(page.locator("#results mark").first).to_have_text("bridge")
    expect(page.locator("#facets")).to_contain_text("public_report (2)")
    folded = page.locator("#results button.similar")
    expect(folded).to_have_text("1 similar report")
    page.screenshot(path=str(ARTIFACTS / "web-search.png"), full_page=True)

    # The cluster's card (whichever of its two reports led) opens its report view.
    page.locator("#results article:has(button.similar) button.title").click()
    detail = page.locator("#detail")
    expect(detail).to_contain_text("Same cluster (1)")
    expect(detail).to_contain_text("Linked reports (1)")
    expect(detail).to_contain_text("shares")
    page.screenshot(path=str(ARTIFACTS / "web-report.png"), full_page=True)
    html = page.content()
    assert not any(value in html for value in RESTRICTED_VALUES)

    page.locator("#detail .chip-phone").first.click()
    expect(detail).to_contain_text("phone: +447700900123")
    expect(detail).to_contain_text("3 reports")


def test_script_in_a_report_is_shown_as_text_and_never_runs(page: Page, corpus: Corpus) -> None:
    sign_in(page, "restricted")
    page.fill("#q", "pupil")
    page.click("#search button[type=submit]")
    card = page.locator(f"#results article[data-id='{corpus.ids['rr1']}']")
    expect(card).to_contain_text("<script>window.__pwned")
    card.locator("button.title").click()
    expect(page.locator("#report-text")).to_have_text(XSS_TEXT)
    expect(page.locator("#detail")).to_contain_text("Perpetua Snodgrass")
    page.screenshot(path=str(ARTIFACTS / "web-xss.png"), full_page=True)
    assert page.evaluate("() => window.__pwned === undefined")
    assert page.locator("#results script, #detail script, #results img, #detail img").count() == 0
