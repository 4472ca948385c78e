"""The web page marks a common selector in its entity view and in a report's links (Chromium)."""

from __future__ import annotations

import pytest
from api_support import Corpus, index_samples
from elasticsearch import Elasticsearch
from playwright.sync_api import Page, expect
from test_api_common import HOTLINE, RARE, common_samples
from test_api_web import ARTIFACTS, page, sign_in

from pipeline.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]
# `page` is the page's browser fixture, imported so these tests can use it
__all__ = ["page"]


@pytest.fixture
def corpus(es: Elasticsearch, api_settings: Settings) -> Corpus:
    return Corpus(api_settings, index_samples(es, api_settings, common_samples()))


def test_the_page_marks_the_hotline_common_and_links_by_the_rare_number(
    page: Page, corpus: Corpus
) -> None:
    sign_in(page, "analyst")
    page.fill("#q", "depot")
    page.click("#search button[type=submit]")
    page.locator(f"#results article[data-id='{corpus.ids['both-a']}'] button.title").click()
    detail = page.locator("#detail")
    expect(detail).to_contain_text("Linked reports (1)")
    expect(detail.locator("section:has(h3:text('Linked reports')) .shared")).to_have_text(
        f"shares phone: {RARE[1]}"
    )
    expect(page.locator("#report-common")).to_contain_text(
        f"not linked by common selectors phone: {HOTLINE[1]}"
    )
    page.screenshot(path=str(ARTIFACTS / "web-common-report.png"), full_page=True)

    page.locator("#report-common .chip-phone").click()
    expect(detail).to_contain_text(f"phone: {HOTLINE[1]}")
    expect(detail).to_contain_text("54 reports in 54 clusters")
    expect(page.locator("#entity-common")).to_contain_text("common selector")

    # back to the report from the search results, then to the rare number
    page.locator(f"#results article[data-id='{corpus.ids['both-a']}'] button.title").click()
    page.locator(f"#detail > .chips button:text-is('phone: {RARE[1]}')").click()
    expect(detail).to_contain_text("2 reports in 2 clusters")
    expect(page.locator("#entity-common")).to_have_count(0)
