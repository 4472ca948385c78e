"""The map of the regional units in headless Chromium: counts for the current search, a unit
chosen by mouse or keyboard filters the search, text on every tile with AA contrast; and the
queue ordered by derived priority."""

from __future__ import annotations

import pytest
from api_support import Corpus
from playwright.sync_api import Page, expect
from test_api_web import ARTIFACTS, sign_in
from test_api_web_workbench import CONTRAST_JS, browser, focused, page, search, tab_to

pytestmark = [pytest.mark.integration, pytest.mark.slow]
# the workbench's browser fixtures, imported so these tests can use them
__all__ = ["browser", "page"]


def unit(page: Page, region: str) -> str:
    return f"#region-map .map-unit[data-region='{region}']"


def test_the_map_counts_the_current_search_and_filters_by_a_unit(
    page: Page, corpus: Corpus
) -> None:
    sign_in(page, "analyst")
    search(page, "bridge")  # pr1, pr2 (London) and rr1 (Wales)
    page.click("#views button[data-view=map]")
    expect(page.locator("#region-map .map-unit")).to_have_count(11)
    expect(page.locator(unit(page, "London"))).to_have_attribute("aria-label", "London 2 reports")
    expect(page.locator(f"{unit(page, 'London')} .unit-count")).to_have_text("2")
    expect(page.locator(f"{unit(page, 'Wales')} .unit-count")).to_have_text("1")
    expect(page.locator(f"{unit(page, 'Scotland')} .unit-count")).to_have_text("0")
    expect(page.locator("#map-status")).to_have_text(
        'Reports matching "bridge" by regional unit: 3 reports'
    )
    assert page.evaluate(CONTRAST_JS) == []
    page.screenshot(path=str(ARTIFACTS / "workbench-map.png"), full_page=True)

    # a unit is a filter of the search: the results show, the map marks it as chosen
    page.click(unit(page, "London"))
    expect(page.locator("#view-search")).to_be_visible()
    expect(page.locator("#filters")).to_contain_text("region: London")
    expect(page.locator("#status")).to_have_text("2 matching reports")
    page.click("#views button[data-view=map]")
    expect(page.locator(unit(page, "London"))).to_have_attribute("aria-pressed", "true")
    # the other units still count what they would add
    expect(page.locator(f"{unit(page, 'Wales')} .unit-count")).to_have_text("1")


def test_a_unit_is_chosen_by_keyboard_and_chosen_again_to_drop_it(
    page: Page, corpus: Corpus
) -> None:
    sign_in(page, "analyst")
    tab_to(page, "#views button[data-view=map]")
    page.keyboard.press("Enter")
    expect(page.locator("#region-map .map-unit")).to_have_count(11)
    tab_to(page, "#region-map .map-unit[data-region='North West']")
    page.keyboard.press("Enter")
    expect(page.locator("#filters")).to_contain_text("region: North West")
    expect(page.locator("#status")).to_contain_text("1 matching report")
    page.click("#views button[data-view=map]")
    # the map is drawn anew with the filter on: wait for that drawing before focusing a unit
    expect(page.locator(unit(page, "North West"))).to_have_attribute("aria-pressed", "true")
    page.focus(unit(page, "North West"))
    assert focused(page, unit(page, "North West"))
    page.keyboard.press(" ")
    expect(page.locator("#filters")).not_to_contain_text("North West")


def test_the_queue_shows_each_reports_priority_and_why(page: Page, corpus: Corpus) -> None:
    sign_in(page, "analyst")
    page.click("#views button[data-view=queues]")
    page.locator("#queue-units button[data-region='North West']").click()
    expect(page.locator("#queue-title")).to_have_text(
        "North West: highest priority first, then newest"
    )
    badge = page.locator("#queue-list article .report-priority")
    # hc1: a hotline call with a vehicle and a phone
    expect(badge).to_have_text("priority 5 · hotline call, vehicle, phone")
    assert page.evaluate(CONTRAST_JS) == []
