"""The analysts' workbench in headless Chromium over the real index: entities marked in a
report's text and the pivot to their views, the cluster timeline, the regional queues, export
of the current search, keyboard-only use, and the page at 200 % zoom with AA contrast."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_support import KEYS, RESTRICTED_VALUES, SAMPLES, Api, Corpus, audit_entries
from elasticsearch import Elasticsearch
from playwright.sync_api import Browser, Page, expect, sync_playwright
from test_api_web import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TEXT = {sample.name: sample.text for sample in SAMPLES}

# WCAG 2.x contrast of every visible element's own text against the first opaque background
# behind it: 4.5:1, or 3:1 for large text (24px, or 18.66px bold).
CONTRAST_JS = """() => {
  const rgb = (value) => (value.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92
      : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const background = (node) => {
    for (let at = node; at; at = at.parentElement) {
      const parts = rgb(getComputedStyle(at).backgroundColor);
      if (parts.length === 3 || (parts.length === 4 && parts[3] === 1)) return parts.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const failures = [];
  for (const node of document.querySelectorAll("body *")) {
    const own = [...node.childNodes].some((c) => c.nodeType === 3 && c.textContent.trim());
    if (!own || !node.getClientRects().length) continue;
    const style = getComputedStyle(node);
    if (style.visibility === "hidden") continue;
    const fg = lum(rgb(style.color)), bg = lum(background(node));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) failures.push(`${node.tagName}.${node.className}: ${ratio.toFixed(2)}`);
  }
  return failures;
}"""


@pytest.fixture
def browser(base_url: str) -> Iterator[Browser]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser: Browser, base_url: str, **options: Any) -> Page:
    context = browser.new_context(accept_downloads=True, **options)
    page = context.new_page()
    page.goto(base_url)
    return page


@pytest.fixture
def page(browser: Browser, base_url: str) -> Page:
    return open_page(browser, base_url, viewport={"width": 1400, "height": 900})


def no_restricted_values(page: Page) -> None:
    html = page.content()
    assert not [value for value in RESTRICTED_VALUES if value in html]


def search(page: Page, q: str, *, fold: bool = False) -> None:
    if not fold:
        page.uncheck("#collapse")
    page.fill("#q", q)
    page.press("#q", "Enter")
    expect(page.locator("#status")).to_contain_text("matching report")


def test_search_report_pivot_cluster_queue_and_export(page: Page, corpus: Corpus) -> None:
    sign_in(page, "analyst")
    search(page, "bridge")
    expect(page.locator("#status")).to_have_text("3 matching reports")
    page.locator(f"#results article[data-id='{corpus.ids['pr1']}'] button.title").click()

    # the report's entities marked in its text, the text itself unchanged
    text = page.locator("#report-text")
    expect(text).to_have_text(TEXT["pr1"])
    marked = text.locator("a.entity")
    expect(marked).to_have_text(["Tower Hill", "07700 900123"])
    expect(marked.nth(1)).to_have_attribute("data-value", "+447700900123")
    page.screenshot(path=str(ARTIFACTS / "workbench-report.png"), full_page=True)
    no_restricted_values(page)

    # pivot: the number's entity view, which lists its reports; Back returns to the report
    marked.nth(1).click()
    detail = page.locator("#detail")
    expect(detail.locator("h2")).to_have_text("phone: +447700900123")
    expect(detail).to_contain_text("3 reports in 2 clusters")
    expect(detail.locator("section[data-list=Reports] article")).to_have_count(3)
    page.screenshot(path=str(ARTIFACTS / "workbench-entity.png"), full_page=True)
    detail.locator("button.back").click()
    expect(text).to_have_text(TEXT["pr1"])

    # the cluster view: its reports on a timeline, oldest first
    page.click("#open-cluster-view")
    expect(detail.locator("h2")).to_have_text("Cluster of 2 reports")
    ticks = page.locator("#cluster-timeline > li")
    expect(ticks).to_have_count(2)
    expect(ticks.locator("time")).to_have_text(["2026-11-01 09:00 UTC", "2026-11-01 09:30 UTC"])
    expect(ticks.nth(1).locator(".gap")).to_have_text("+30 min")
    expect(ticks.nth(0).locator("article")).to_have_attribute("data-id", corpus.ids["pr1"])
    page.screenshot(path=str(ARTIFACTS / "workbench-cluster.png"), full_page=True)
    no_restricted_values(page)

    # the export of the current search: every report of it, as NDJSON, masked like the page
    with page.expect_download() as download_info:
        page.click("#export")
    expect(page.locator("#export-status")).to_have_text("Exported 3 reports as NDJSON")
    exported = Path(download_info.value.path()).read_text()
    lines = [json.loads(line) for line in exported.splitlines() if line]
    assert {line["id"] for line in lines} == {corpus.ids[n] for n in ("pr1", "pr2", "rr1")}
    assert not [value for value in RESTRICTED_VALUES if value in exported]
    assert all(line["restricted"] is None for line in lines)

    # the queues: the 11 units with their counts, one unit's reports newest first
    page.click("#views button[data-view=queues]")
    units = page.locator("#queue-units button")
    expect(units).to_have_count(11)
    expect(units.locator(".unit-count")).to_have_text(
        ["2", "0", "1", "0", "0", "0", "0", "0", "0", "0", "1"]
    )
    expect(page.locator("#queue-unplaced")).to_have_text("1 report with no regional unit")
    page.locator("#queue-units button[data-region=London]").click()
    expect(page.locator("#queue-status")).to_have_text("London: 2 reports")
    queue = page.locator("#queue-list article")
    expect(queue).to_have_count(2)
    assert [queue.nth(i).get_attribute("data-id") for i in range(2)] == [
        corpus.ids["pr2"],
        corpus.ids["pr1"],
    ]
    page.screenshot(path=str(ARTIFACTS / "workbench-queue.png"), full_page=True)
    no_restricted_values(page)


def focused(page: Page, selector: str) -> bool:
    return bool(page.evaluate("(s) => document.activeElement.matches(s)", selector))


def tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until `selector` has the focus, and check the focus is visible."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(page, selector):
            outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none", f"{selector} has no visible focus"
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_one_path_by_keyboard_only(page: Page, corpus: Corpus) -> None:
    assert focused(page, "#key")
    page.keyboard.type(KEYS["analyst"])
    page.keyboard.press("Tab")
    page.keyboard.type("Operation Keys, tasking 9")
    page.keyboard.press("Enter")
    expect(page.locator("#who")).to_contain_text("alice (analyst)")
    assert focused(page, "#q")
    page.keyboard.type("depot")
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_have_text("1 matching report in 1 cluster")

    tab_to(page, "#results button.title")
    page.keyboard.press("Enter")
    expect(page.locator("#report-text")).to_have_text(TEXT["hc1"])
    assert focused(page, "#detail h2")
    tab_to(page, "#report-text a.entity[data-type=vehicle]")
    page.keyboard.press("Enter")
    expect(page.locator("#detail h2")).to_have_text("vehicle: AB12CDE")
    page.screenshot(path=str(ARTIFACTS / "workbench-keyboard.png"), full_page=True)
    # Escape closes the detail and gives the focus back to where the analyst was
    page.keyboard.press("Escape")
    expect(page.locator("#detail")).to_be_hidden()
    assert focused(page, "#results button.title")

    tab_to(page, "#views button[data-view=queues]")
    page.keyboard.press("Enter")
    tab_to(page, "#queue-units button[data-region='North West']")
    page.keyboard.press("Enter")
    expect(page.locator("#queue-status")).to_have_text("North West: 1 report")
    assert focused(page, "#queue-title")


def test_200_percent_zoom_reflows_and_contrast_is_aa(
    browser: Browser, base_url: str, corpus: Corpus
) -> None:
    # 1280 x 900 at 200 %: the page lays out in 640 x 450 CSS pixels
    page = open_page(
        browser, base_url, viewport={"width": 640, "height": 450}, device_scale_factor=2
    )
    sign_in(page, "analyst")
    search(page, "bridge")
    page.locator(f"#results article[data-id='{corpus.ids['pr1']}'] button.title").click()
    expect(page.locator("#report-text a.entity")).to_have_count(2)
    overflow = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    assert page.evaluate(overflow) <= 0
    assert page.evaluate(CONTRAST_JS) == []
    page.screenshot(path=str(ARTIFACTS / "workbench-zoom-200.png"), full_page=True)
    page.click("#open-cluster-view")
    expect(page.locator("#cluster-timeline > li")).to_have_count(2)
    page.click("#views button[data-view=queues]")
    expect(page.locator("#queue-units button")).to_have_count(11)
    assert page.evaluate(overflow) <= 0
    assert page.evaluate(CONTRAST_JS) == []
    page.screenshot(path=str(ARTIFACTS / "workbench-zoom-200-queues.png"), full_page=True)


def test_a_clusters_reports_are_a_search_filter(
    api: Api, es: Elasticsearch, corpus: Corpus
) -> None:
    params = {"cluster": "cluster-bridge", "collapse": "false", "sort": "oldest"}
    page = api.get("/api/search", params=params).json()
    assert [r["id"] for r in page["results"]] == [corpus.ids["pr1"], corpus.ids["pr2"]]
    assert page["total"] == 2
    searched = [e for e in audit_entries(es, corpus.settings) if e.action == "search"]
    assert searched[0].query["clusters"] == ["cluster-bridge"]
