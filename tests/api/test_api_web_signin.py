"""The web page's sign-in screen and its result list, in headless Chromium over the real index."""

from __future__ import annotations

import pytest
from api_support import KEYS, Corpus
from playwright.sync_api import Page, Route, expect
from test_api_web import ARTIFACTS, page, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.slow]

__all__ = ["page"]  # the fixture, shared with test_api_web


def kept(page: Page) -> dict[str, object]:
    return page.evaluate(
        "() => ({ session: { ...sessionStorage }, local: localStorage.length,"
        " cookies: document.cookie })"
    )


def test_sign_in_keeps_the_key_for_the_tab_only_and_sign_out_forgets_it(
    page: Page, corpus: Corpus
) -> None:
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#workspace")).to_be_hidden()
    expect(page.locator("#login")).to_contain_text("kept in this tab only")

    page.fill("#key", "not-a-key-at-all-xxxx")
    page.fill("#justification", "Operation Web, tasking 7")
    page.click("#login button[type=submit]")
    expect(page.locator("#login-error")).to_contain_text("not accepted")
    expect(page.locator("#workspace")).to_be_hidden()

    sign_in(page, "analyst")
    expect(page.locator("#who")).to_have_text(
        "Signed in as alice (analyst) · Operation Web, tasking 7"
    )
    expect(page.locator("#key")).to_have_value("")
    stored = kept(page)
    assert KEYS["analyst"] in stored["session"].values()  # type: ignore[union-attr]
    assert stored["local"] == 0 and stored["cookies"] == ""
    page.screenshot(path=str(ARTIFACTS / "web-signed-in.png"), full_page=True)

    # a reload keeps the tab signed in; another tab has to sign in for itself
    page.reload()
    expect(page.locator("#who")).to_contain_text("alice (analyst)")
    expect(page.locator("#status")).to_contain_text("matching report")
    other = page.context.new_page()
    other.goto(page.url)
    expect(other.locator("#login")).to_be_visible()
    other.close()

    page.click("#signout")
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#workspace")).to_be_hidden()
    expect(page.locator("#who")).to_have_text("")
    assert kept(page)["session"] == {}
    page.screenshot(path=str(ARTIFACTS / "web-sign-in.png"), full_page=True)


def test_a_refused_key_returns_to_the_sign_in_screen(page: Page, corpus: Corpus) -> None:
    sign_in(page, "analyst")
    # the key stops being accepted (revoked) while the tab is open
    page.evaluate("() => { state.key = 'revoked-key-0000000000'; }")
    page.fill("#q", "bridge")
    page.press("#q", "Enter")
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#login-error")).to_contain_text("sign in again")
    assert kept(page)["session"] == {}


def ids(page: Page) -> set[str]:
    return set(
        page.locator("#results article").evaluate_all("cards => cards.map(c => c.dataset.id)")
    )


def test_the_list_never_shows_an_earlier_querys_results(page: Page, corpus: Corpus) -> None:
    sign_in(page, "analyst")
    bridge = {corpus.ids["pr1"], corpus.ids["pr2"], corpus.ids["rr1"]}
    depot = {corpus.ids["hc1"]}
    page.uncheck("#collapse")
    expect(page.locator("#status")).to_contain_text("matching report")

    page.fill("#q", "bridge")
    page.press("#q", "Enter")
    expect(page.locator("#status")).to_have_text("3 matching reports")
    assert ids(page) == bridge
    # typing a new query clears the list at once, before it is searched
    page.fill("#q", "depot")
    assert ids(page) == set()
    expect(page.locator("#facets")).to_be_empty()

    # the first search's answer comes last: it is dropped, not shown over the second's
    held: list[Route] = []

    def hold_bridge(route: Route) -> None:
        if "bridge" in (route.request.post_data or ""):
            held.append(route)
        else:
            route.continue_()

    page.route("**/api/search", hold_bridge)
    page.fill("#q", "bridge")
    page.press("#q", "Enter")
    page.wait_for_timeout(200)
    page.fill("#q", "depot")
    page.press("#q", "Enter")
    expect(page.locator("#status")).to_have_text("1 matching report")
    assert held and ids(page) == depot
    with page.expect_response("**/api/search"):
        held[0].continue_()
    page.wait_for_timeout(300)
    assert ids(page) == depot
    expect(page.locator("#status")).to_have_text("1 matching report")
    page.unroute("**/api/search")

    # no report has both words: those with one, and the page says so
    page.fill("#q", "depot railings")
    page.press("#q", "Enter")
    expect(page.locator("#notice")).to_contain_text("No report has every word")
    expect(page.locator("#status")).to_have_text("2 reports with most of the words")
    assert ids(page) == {corpus.ids["hc1"], corpus.ids["rr1"]}
    page.screenshot(path=str(ARTIFACTS / "web-partial.png"), full_page=True)
    page.fill("#q", "depot")
    expect(page.locator("#notice")).to_be_hidden()
