"""The Alerts and Watchlist panels in a real headless Chromium: an entry added through the form,
an alert written into the real alerts index appearing without a reload, acknowledged, the
entry changed and deleted; bad input shown next to its field; alert text shown as text."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from api_support import Corpus
from elasticsearch import Elasticsearch
from playwright.sync_api import Page, expect
from test_api_stream import write_sighting
from test_api_web import ARTIFACTS, page, sign_in

from pipeline.enrich.mentions import EntityType, Mention
from pipeline.enrich.watch.alerts import AlertWriter, Sighting, ensure_alerts_index
from pipeline.enrich.watch.entries import WatchEntry
from pipeline.enrich.watch.matcher import Match, alert_id

pytestmark = [pytest.mark.integration, pytest.mark.slow]
# `page` is the page's browser fixture, imported so these tests can use it
__all__ = ["page"]

LIVE_S = 15_000  # ms: a poll, a refresh and the page's own work, with room for a busy machine


def add_phone_entry(page: Page, value: str, *, priority: str = "high") -> str:
    """Add a phone entry through the form; the new entry's id."""
    page.click("#views button[data-view=watchlist]")
    page.check("input[name=watch-kind][value=target]")
    page.select_option("#watch-type", "phone")
    page.fill("#watch-value", value)
    page.fill("#watch-justification", "Operation Web, the depot caller")
    page.select_option("#watch-priority", priority)
    page.click("#watch-form button[type=submit]")
    card = page.locator("#watch-entries article", has_text=f"phone: {value}")
    expect(card).to_be_visible()
    entry_id = card.get_attribute("data-entry-id")
    assert entry_id
    return entry_id


def test_an_alert_appears_live_is_acknowledged_and_the_entry_is_changed_and_deleted(
    page: Page, es: Elasticsearch, corpus: Corpus
) -> None:
    sign_in(page, "analyst")
    expect(page.locator("#stream-state")).to_have_text("Alerts: live", timeout=LIVE_S)
    # only the restricted role may watch restricted values: the analyst is not offered it
    page.click("#views button[data-view=watchlist]")
    expect(page.locator("#watch-restricted")).to_be_hidden()
    entry_id = add_phone_entry(page, "07700 900123")
    page.evaluate("() => { window.__sameDocument = true; }")

    page.click("#views button[data-view=alerts]")
    watched = WatchEntry(
        id=entry_id,
        owner="alice",
        justification="Operation Web, the depot caller",
        target="phone:07700 900123",
        priority="high",
    )
    first = write_sighting(es, corpus, watched, "cluster-depot", corpus.ids["hc1"])
    card = page.locator(f"#alerts article[data-alert-id='{first}']")
    expect(card).to_be_visible(timeout=LIVE_S)
    expect(card).to_contain_text("phone: +447700900123")
    expect(card).to_contain_text("1 report")
    expect(card.locator(".priority")).to_have_text("high")
    expect(card.locator("mark")).to_have_text("07700 900123")
    expect(page.locator("#alerts-badge")).to_have_text("1")
    expect(page.locator("#alerts-status")).to_contain_text("New high alert")

    # a second report of the same cluster raises the count of the same card
    write_sighting(es, corpus, watched, "cluster-depot", corpus.ids["pr1"])
    expect(card).to_contain_text("2 reports", timeout=LIVE_S)
    assert page.locator("#alerts article").count() == 1
    page.screenshot(path=str(ARTIFACTS / "web-alerts.png"), full_page=True)

    card.locator("button.open-report").click()
    expect(page.locator("#report-text")).to_contain_text("AB12 CDE parked near the depot")
    card.locator("button.open-cluster").click()
    expect(page.locator("#detail section[data-list='Same cluster']")).to_be_visible()

    card.locator("select[name=outcome]").select_option("relevant")
    card.locator("input[name=note]").fill("same caller as last week")
    card.locator("button", has_text="Acknowledge").click()
    expect(card.locator(".acknowledged")).to_contain_text("Acknowledged relevant by alice")
    expect(card.locator(".acknowledged")).to_contain_text("same caller as last week")
    expect(page.locator("#alerts-badge")).to_be_hidden()

    # the alert's entry, in the watchlist
    card.locator("button.open-entry").click()
    entry = page.locator(f"#watch-entries article[data-entry-id='{entry_id}']")
    expect(entry).to_have_class(re.compile(r"\bflash\b"))
    expect(page.locator("#view-watchlist")).to_be_visible()

    entry.locator("select.entry-priority").select_option("low")
    entry.locator("button.entry-save").click()
    expect(entry.locator(".priority")).to_have_text("low")
    page.screenshot(path=str(ARTIFACTS / "web-watchlist.png"), full_page=True)
    entry.locator("button.entry-delete").click()
    expect(entry.locator("button.entry-delete")).to_have_text("Really delete?")
    entry.locator("button.entry-delete").click()
    expect(entry).to_have_count(0)
    expect(page.locator("#watch-status")).to_contain_text("No longer watching phone: 07700 900123")

    # still the page first loaded: everything above came without a reload
    assert page.evaluate("() => window.__sameDocument === true")


def test_refused_entries_show_the_error_next_to_the_field(page: Page, corpus: Corpus) -> None:
    sign_in(page, "analyst")
    page.click("#views button[data-view=watchlist]")
    page.fill("#watch-value", "not a phone")
    page.click("#watch-form button[type=submit]")
    expect(page.locator("#watch-value-error")).to_contain_text("not recognised as one phone")
    expect(page.locator("#watch-value")).to_have_attribute("aria-invalid", "true")

    page.fill("#watch-value", "07700 900123")
    page.fill("#watch-expiry", "2020-01-01")
    page.click("#watch-form button[type=submit]")
    expect(page.locator("#watch-expiry-error")).to_contain_text("in the past")
    expect(page.locator("#watch-value-error")).to_be_hidden()

    page.fill("#watch-expiry", "")
    page.check("input[name=watch-kind][value=search]")
    page.fill("#watch-q", "*bomb")
    page.click("#watch-form button[type=submit]")
    expect(page.locator("#watch-q-error")).to_contain_text("wildcard")
    assert page.locator("#watch-entries article").count() == 0


def test_the_restricted_role_is_offered_restricted_entries(page: Page, corpus: Corpus) -> None:
    sign_in(page, "restricted")
    page.click("#views button[data-view=watchlist]")
    page.fill("#watch-value", "07700 900456")
    page.check("#watch-restricted")
    page.click("#watch-form button[type=submit]")
    card = page.locator("#watch-entries article", has_text="phone: 07700 900456")
    expect(card.locator(".restricted-flag")).to_have_text("restricted")


def test_alert_text_is_shown_as_text_and_a_saved_searchs_words_are_marked(
    page: Page, es: Elasticsearch, corpus: Corpus
) -> None:
    sign_in(page, "analyst")
    expect(page.locator("#stream-state")).to_have_text("Alerts: live", timeout=LIVE_S)
    page.click("#views button[data-view=alerts]")
    hostile = "<img src=x onerror=\"window.__pwned = 'img'\">"
    watched = WatchEntry(
        id="e-hostile", owner="alice", justification="Op", target="phone:07700 900123"
    )
    search = WatchEntry(id="e-search", owner="alice", justification="Op", search={"q": "railings"})
    ensure_alerts_index(es, corpus.settings.index_alias)
    writer = AlertWriter(es, corpus.settings.index_alias)
    writer.write(
        [
            Sighting(
                Match(watched, Mention(EntityType.PHONE, hostile, "+447700900123", 0, 9)),
                corpus.ids["pr2"],
                "cluster-bridge",
                "public_report",
                seen_at=datetime.now(UTC),
            ),
            Sighting(
                Match(
                    search,
                    None,
                    highlight="<script>window.__pwned = 1</script> on the \ue000railings\ue001.",
                ),
                corpus.ids["rr1"],
                "cluster-school",
                "radicalisation_referral",
                seen_at=datetime.now(UTC),
            ),
        ]
    )
    text_card = page.locator(
        f"#alerts article[data-alert-id='{alert_id('e-hostile', 'cluster-bridge')}']"
    )
    expect(text_card.locator("mark")).to_have_text(hostile, timeout=LIVE_S)
    search_card = page.locator(
        f"#alerts article[data-alert-id='{alert_id('e-search', 'cluster-school')}']"
    )
    expect(search_card).to_contain_text('search "railings"', timeout=LIVE_S)
    expect(search_card.locator("mark")).to_have_text("railings")
    expect(search_card).to_contain_text("<script>window.__pwned = 1</script> on the")
    assert page.evaluate("() => window.__pwned === undefined")
    assert page.locator("#alerts img, #alerts script").count() == 0
