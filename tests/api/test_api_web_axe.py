"""Every workbench page checked by axe-core (from npm) in the same headless Chromium: no
serious or critical accessibility violation on sign-in, search, report, entity, cluster,
queue, map, alerts and watchlist."""

from __future__ import annotations

import pytest
from api_support import Corpus
from playwright.sync_api import Page, expect
from test_api_web import ARTIFACTS, sign_in
from test_api_web_workbench import browser, page, search
from web_axe import axe_violations, blocking

pytestmark = [pytest.mark.integration, pytest.mark.slow]
# the workbench's browser fixtures, imported so these tests can use them
__all__ = ["browser", "page"]


def test_no_serious_or_critical_violation_on_any_page(page: Page, corpus: Corpus) -> None:
    found: dict[str, list[str]] = {}

    def check(name: str) -> None:
        found[name] = blocking(axe_violations(page))
        page.screenshot(path=str(ARTIFACTS / f"axe-{name}.png"), full_page=True)

    check("sign-in")
    sign_in(page, "analyst")
    search(page, "bridge")
    check("search")
    page.locator(f"#results article[data-id='{corpus.ids['pr1']}'] button.title").click()
    expect(page.locator("#report-text a.entity")).to_have_count(2)
    check("report")
    page.locator("#report-text a.entity[data-type=phone]").click()
    expect(page.locator("#detail h2")).to_have_text("phone: +447700900123")
    check("entity")
    page.click("#detail button.back")
    page.click("#open-cluster-view")
    expect(page.locator("#cluster-timeline > li")).to_have_count(2)
    check("cluster")
    page.keyboard.press("Escape")
    page.click("#views button[data-view=queues]")
    page.locator("#queue-units button[data-region=London]").click()
    expect(page.locator("#queue-list article")).to_have_count(2)
    check("queue")
    page.click("#views button[data-view=map]")
    expect(page.locator("#region-map .map-unit")).to_have_count(11)
    check("map")
    page.click("#views button[data-view=alerts]")
    expect(page.locator("#alerts-status")).not_to_be_empty()
    check("alerts")
    page.click("#views button[data-view=watchlist]")
    expect(page.locator("#watch-type option").first).to_be_attached()
    check("watchlist")
    problems = [f"{name}: {line}" for name, lines in found.items() for line in lines]
    assert not problems, "\n".join(problems)
