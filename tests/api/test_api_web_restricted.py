"""The web page shows analysts the masked narrative and the restricted role the one as written."""

from __future__ import annotations

import pytest
from api_support import Corpus, index_samples
from elasticsearch import Elasticsearch
from playwright.sync_api import Page, expect
from test_api_restricted_narrative import OWN, OWN_TEXT, SECRETS
from test_api_web import page, sign_in

from pipeline.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]
# `page` is the page's browser fixture, imported so these tests can use it
__all__ = ["page"]


@pytest.fixture
def corpus(es: Elasticsearch, api_settings: Settings) -> Corpus:
    """The caller's own report in place of the usual corpus (the app and page use this one)."""
    return Corpus(api_settings, index_samples(es, api_settings, OWN))


def open_own_report(page: Page, role: str, corpus: Corpus) -> None:
    sign_in(page, role)
    page.fill("#q", "Imran")
    page.click("#search button[type=submit]")
    page.locator(f"#results article[data-id='{corpus.ids['own']}'] button.title").click()
    expect(page.locator("#report-text")).to_contain_text("Caller [caller name] said")


def test_analyst_page_never_shows_the_callers_values(page: Page, corpus: Corpus) -> None:
    open_own_report(page, "analyst", corpus)
    expect(page.locator("#results mark").first).to_have_text("Imran")
    assert page.locator("#report-restricted-text").count() == 0
    html = page.content().lower()
    assert not [secret for secret in SECRETS if secret in html]


def test_restricted_page_shows_the_narrative_as_written(page: Page, corpus: Corpus) -> None:
    open_own_report(page, "restricted", corpus)
    expect(page.locator("#report-restricted-text")).to_have_text(OWN_TEXT)
    expect(page.locator("#report-restricted-entities")).to_contain_text("phone: +447700900456")
