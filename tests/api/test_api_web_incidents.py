"""The workbench's incident pages in headless Chromium over the real index: the Incidents view,
an incident's timeline, sources, regions and merged entities, a merge recorded from the page,
and the report view's incident controls; no restricted value on any of them, axe-clean."""

from __future__ import annotations

import pytest
from api_support import Corpus
from playwright.sync_api import Page, expect
from test_api_web import ARTIFACTS, sign_in
from test_api_web_workbench import browser, no_restricted_values, page  # noqa: F401 - fixtures
from web_axe import axe_violations, blocking

pytestmark = [pytest.mark.integration, pytest.mark.slow]

INCIDENT = "inc-cluster-bridge"  # pr1, pr2 (a cluster) and hc1, one event in other words


def test_incidents_view_incident_detail_merge_and_report_controls(
    page: Page,  # noqa: F811
    corpus: Corpus,
) -> None:
    sign_in(page, "analyst")
    page.click('#views button[data-view="incidents"]')
    expect(page.locator("#incidents-status")).to_contain_text("incidents among 5 reports")
    rows = page.locator("#incident-list > li")
    expect(rows).to_have_count(3)  # bridge (3 reports), school, video
    bridge = rows.filter(has_text="Incident of 3 reports")
    expect(bridge).to_have_count(1)
    bridge.locator("button.incident-open").click()

    detail = page.locator("#detail")
    expect(detail.locator("h2")).to_have_text("Incident of 3 reports")
    expect(detail).to_contain_text("sources: public report 2, hotline call 1")
    expect(detail).to_contain_text("regions: London 2, North West 1")
    expect(detail).to_contain_text("2 clusters")
    phone = page.locator("#incident-entities a.entity[data-value='+447700900123']")
    expect(phone).to_have_count(1)
    expect(page.locator("#incident-entities")).to_contain_text("+447700900123 ×3")
    ticks = page.locator("#incident-timeline > li")
    expect(ticks).to_have_count(3)
    expect(ticks.locator("article").first).to_have_attribute("data-id", corpus.ids["pr1"])
    page.screenshot(path=str(ARTIFACTS / "workbench-incident.png"), full_page=True)
    no_restricted_values(page)
    assert not blocking(axe_violations(page))

    page.fill("#merge-into", "inc-cluster-school")
    page.click("#merge-form button[type=submit]")
    expect(page.locator("#merge-status")).to_contain_text("merge recorded (pending)")

    # from a report of it: its incident, more like this, move out
    ticks.locator("article").nth(2).locator("button.title").click()
    expect(page.locator("#open-incident-view")).to_be_visible()
    expect(page.locator("#more-like-this")).to_be_visible()
    page.click("#move-out")
    expect(page.locator("#move-status")).to_contain_text("move recorded (pending)")
    page.click("#open-incident-view")
    expect(detail.locator("h2")).to_have_text("Incident of 3 reports")
    expect(page.locator("#incident-corrections")).to_contain_text("merge pending")
    no_restricted_values(page)


def test_search_folds_by_incident_on_the_page(page: Page, corpus: Corpus) -> None:  # noqa: F811
    sign_in(page, "analyst")
    page.fill("#q", "07700 900123")
    page.select_option("#fold", "incident")
    page.press("#q", "Enter")
    expect(page.locator("#status")).to_have_text("3 matching reports in 1 incident")
    expect(page.locator("#results article")).to_have_count(1)
