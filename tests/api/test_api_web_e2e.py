"""The README's run command end to end in a browser, as a newcomer: `bin/pipeline run --demo N`
in a terminal, the analyst key it prints, then headless Chromium signs in with it, searches the
demo, opens a report, pivots to one of its entities, opens its cluster, and saves a screenshot
of each page (`$PIPELINE_TEST_ARTIFACTS`, default `test-artifacts/`, git-ignored). The analyst
never receives a restricted value, on any page or in any answer the page gets, and axe-core
finds no serious or critical violation on any of them.

On the local stack the run starts from a clean state dir of its own, as on a new machine: its
own stack (`tests/private_stack.py`: own ports, the shared download cache) and the local keys it
makes there. Elsewhere it signs in with the key it is given.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from elasticsearch import Elasticsearch
from playwright.sync_api import Page, Response, expect, sync_playwright
from test_api_web import CHROMIUM, CHROMIUM_ARGS
from web_axe import axe_violations, blocking

from pipeline.clients import elasticsearch_client
from pipeline.dev.demo import generate
from pipeline.dev.first_run import keys_path
from pipeline.settings import Settings
from tests.harness import wait_for
from tests.private_stack import private_stack
from tests.run_support import KEY, ROOT, Screen, console_env, run_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]
# the run command's fixtures (tests/run_support.py), imported so this test can use them
__all__ = ["console_env", "run_env"]

DEMO = 150
# The line after "sign in with this analyst key (...):", indented: first_run's keys are
# secrets.token_urlsafe(24), 32 characters. The live status is redrawn between the two lines,
# and on the screen's text the key may follow its last line without a break.
PRINTED_KEY = re.compile(
    r"sign in with this analyst key \([^)]*\):.*? {4}([\w-]{32})(?![\w-])", re.S
)
RESTRICTED_KEYS = ("restricted", "restricted_text", "restricted_entities", "restricted_mentions")


def artifacts() -> Path:
    where = Path(os.environ.get("PIPELINE_TEST_ARTIFACTS") or ROOT / "test-artifacts") / "e2e"
    where.mkdir(parents=True, exist_ok=True)
    return where


def restricted_answers(value: Any, path: str = "") -> list[str]:
    """Where in an API answer a restricted field carries a value (none may, for an analyst)."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in RESTRICTED_KEYS and item not in (None, {}, []):
                found.append(f"{path}.{key}")
            found += restricted_answers(item, f"{path}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            found += restricted_answers(item, f"{path}[{n}]")
    return found


def own_values(restricted: dict[str, Any]) -> list[str]:
    """A report's own reporter/caller/subject phone, email and full name, as written."""
    values = []
    for person in ("reporter", "caller", "subject"):
        details = restricted.get(person) or {}
        for field in ("phone", "email", "name"):
            value = details.get(field)
            if isinstance(value, str) and (field != "name" or " " in value.strip()):
                values.append(value)
    return values


def pick_report(es: Elasticsearch, alias: str) -> dict[str, Any]:
    """A demo report whose text masks its own restricted values and names an entity; one in a
    cluster of several if there is such."""
    es.indices.refresh(index=alias)
    hits = es.search(index=alias, size=1000, query={"match_all": {}})["hits"]["hits"]
    sizes: dict[str, int] = {}
    for hit in hits:
        cluster = hit["_source"].get("cluster_id")
        sizes[cluster] = sizes.get(cluster, 0) + 1
    fits = [
        h
        for h in hits
        if "text" in (h["_source"].get("restricted") or {})
        and own_values(h["_source"]["restricted"])
        and h["_source"].get("entity_mentions")
    ]
    assert fits, "the demo has no report that masks its own restricted values"
    return max(fits, key=lambda h: sizes.get(h["_source"].get("cluster_id"), 0))


@pytest.fixture
def clean_run(
    settings: Settings, console_env: dict[str, str]
) -> Iterator[tuple[dict[str, str], Settings | None]]:
    """The run command's environment and, on the local stack, the settings of the clean state
    dir it starts from (its stack is taken down and the dir removed afterwards)."""
    if not settings.uses_local_stack:
        yield console_env, None
        return
    with private_stack() as private:
        env = dict(console_env)
        for name in ("KAFKA_BOOTSTRAP_SERVERS", "ELASTICSEARCH_URL", "PIPELINE_API_KEYS"):
            env.pop(name, None)
        env.update(
            PIPELINE_STATE_DIR=str(private.state_dir),
            STACK_KAFKA_PORT=str(private.stack_kafka_port),
            STACK_KAFKA_CONTROLLER_PORT=str(private.stack_kafka_controller_port),
            STACK_ES_PORT=str(private.stack_es_port),
            STACK_KAFKA_HEAP=private.stack_kafka_heap,
            STACK_ES_HEAP=private.stack_es_heap,
        )
        assert not keys_path(private.state_dir).exists()  # nothing made before the run
        yield env, private


def test_readme_run_then_sign_in_search_report_entity_cluster_in_chromium(
    es: Elasticsearch, clean_run: tuple[dict[str, str], Settings | None]
) -> None:
    env, private = clean_run
    valid = sum(1 for r in generate(DEMO) if r.bad is None)
    port = env["PIPELINE_API_PORT"]
    alias = env["PIPELINE_INDEX_ALIAS"]
    run = Screen(env, DEMO)
    try:
        if private is not None:
            # a stack of its own first (about a minute), then the keys it makes once
            deadline = time.monotonic() + 420
            while time.monotonic() < deadline and not PRINTED_KEY.search(run.text):
                run.read_for(1)
                assert run.child.isalive(), run.text[-3000:]
            printed = PRINTED_KEY.search(run.text)
            assert printed, run.text[-3000:]
            key = printed.group(1)
            granted = json.loads(keys_path(private.state_dir).read_text())
            assert granted[key]["role"] == "analyst"
            es = elasticsearch_client(private)  # the run's own stack, as its admin
        else:
            key = KEY
        headers = {"X-API-Key": key, "X-Justification": "e2e browser test"}

        last: list[str] = ["no answer yet"]

        def indexed() -> int:
            run.read_for(0.5)  # keep the terminal drained while waiting
            try:
                answer = httpx.get(
                    f"http://127.0.0.1:{port}/api/search",
                    params={"collapse": "false", "size": 1},
                    headers=headers,
                    timeout=10,
                )
            except httpx.TransportError as exc:
                last[0] = repr(exc)
                return 0
            last[0] = f"{answer.status_code} {answer.text[:300]}"
            return int(answer.json()["total"]) if answer.status_code == 200 else 0

        wait_for(
            lambda: indexed() >= valid,
            300,
            f"{valid} demo reports searchable",
            lambda: f"last answer: {last[0]}\n{run.text[-3000:]}",
        )
        target = pick_report(es, alias)
        walk_the_workbench(f"http://127.0.0.1:{port}/", key, target, run, es, alias)
    finally:
        code = run.stop()
    assert code == 0, run.text[-3000:]


def own_leaks(es: Elasticsearch, alias: str, page: Page, opened: str) -> list[str]:
    """Every report on the page whose card or text shows its own restricted values (`opened`:
    the report whose view the detail may show).

    Only its own: the demo's names recur, and one person's restricted name may be written,
    unrestricted, in someone else's report."""
    shown: list[list[str]] = page.eval_on_selector_all(
        "article[data-id]", "cards => cards.map((c) => [c.dataset.id, c.innerText])"
    )
    text = page.locator("#report-text")
    if text.count():
        shown.append([opened, text.inner_text()])
    ids = sorted({report_id for report_id, _ in shown})
    docs = {d["_id"]: d.get("_source") or {} for d in es.mget(index=alias, ids=ids)["docs"]}
    leaks = []
    for report_id, text in shown:
        for value in own_values((docs.get(report_id) or {}).get("restricted") or {}):
            if value in text:
                leaks.append(f"{report_id}: {value!r}")
    return leaks


def walk_the_workbench(
    url: str, key: str, target: dict[str, Any], run: Screen, es: Elasticsearch, alias: str
) -> None:
    source = target["_source"]
    secrets = own_values(source["restricted"])
    shots = artifacts()
    leaks: list[str] = []
    problems: list[str] = []

    def answer(response: Response) -> None:
        if "/api/" in response.url and "json" in (response.headers.get("content-type") or ""):
            leaks.extend(f"{response.url}: {w}" for w in restricted_answers(response.json()))

    def page_done(page: Page, name: str) -> None:
        run.read_for(0.2)
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
        leaks.extend(f"{name}: {leak}" for leak in own_leaks(es, alias, page, target["_id"]))
        assert page.locator("#report-restricted-text, #report-restricted-entities").count() == 0
        problems.extend(f"{name}: {line}" for line in blocking(axe_violations(page)))

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            page.on("response", answer)
            page.goto(url)
            page.fill("#key", key)
            page.fill("#justification", "Operation Newcomer, first run")
            page.click("#login button[type=submit]")
            expect(page.locator("#who")).to_contain_text("(analyst)")
            expect(page.locator("#status")).to_contain_text("matching report")
            page_done(page, "1-signed-in")

            page.uncheck("#collapse")
            page.fill("#q", source["source_id"])
            page.press("#q", "Enter")
            card = page.locator(f"#results article[data-id='{target['_id']}']")
            expect(card).to_be_visible()
            page_done(page, "2-search")

            card.locator("button.title").click()
            text = page.locator("#report-text")
            expect(text).to_have_text(source["text"])
            assert "[" in source["text"]  # its own values masked by their labels
            assert not [value for value in secrets if value in text.inner_text()]
            page_done(page, "3-report")

            entity = text.locator("a.entity").first
            kind, value = entity.get_attribute("data-type"), entity.get_attribute("data-value")
            entity.click()
            expect(page.locator("#detail h2")).to_have_text(f"{kind}: {value}")
            expect(page.locator(f"#detail article[data-id='{target['_id']}']")).to_be_visible()
            page_done(page, "4-entity")

            page.click("#detail button.back")
            page.click("#open-cluster-view")
            timeline = page.locator("#cluster-timeline")
            expect(timeline.locator("> li").first).to_be_visible()
            expect(timeline.locator(f"article[data-id='{target['_id']}']")).to_be_visible()
            page_done(page, "5-cluster")
        finally:
            browser.close()
    assert not leaks, json.dumps(leaks, indent=1)
    assert not problems, "\n".join(problems)
