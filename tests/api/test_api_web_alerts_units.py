"""The watchlist and alert panels' own lists stay the API's: types, sources, regions, outcomes."""

from __future__ import annotations

import json
import re

from pipeline.api.app import WEB_DIR
from pipeline.api.watch_models import Outcome
from pipeline.enrich.regions import REGIONS
from pipeline.enrich.watch.entries import NAME_TYPES, SELECTOR_TYPES, Priority
from pipeline.ingest.sources import Source


def js_list(script: str, name: str) -> list[str]:
    """The strings of `const NAME = [...]` in a static script."""
    text = (WEB_DIR / script).read_text()
    found = re.search(rf"const {name} = (\[.*?\]);", text, re.S)
    assert found, f"{name} is not in {script}"
    return list(json.loads(re.sub(r",\s*\]", "]", found.group(1))))


def test_the_watchlist_form_offers_what_the_api_accepts() -> None:
    types = {kind.value for kind in SELECTOR_TYPES | NAME_TYPES}
    assert set(js_list("watchlist.js", "WATCH_TYPES")) == types
    assert js_list("watchlist.js", "WATCH_SOURCES") == [source.value for source in Source]
    assert js_list("watchlist.js", "WATCH_REGIONS") == list(REGIONS)
    assert js_list("watchlist.js", "WATCH_PRIORITIES") == [p.value for p in Priority]


def test_the_acknowledge_control_offers_every_outcome() -> None:
    text = (WEB_DIR / "alerts.js").read_text()
    block = re.search(r"const OUTCOMES = \[(.*?)\];", text, re.S)
    assert block
    assert re.findall(r'\["(\w+)",', block.group(1)) == [o.value for o in Outcome]


def test_the_page_loads_its_scripts_from_itself_and_runs_none_inline() -> None:
    html = (WEB_DIR / "index.html").read_text()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    sources = [re.findall(r'src="([^"]+)"', attrs) for attrs, _ in scripts]
    assert sources == [
        ["/static/app.js"],
        ["/static/alerts.js"],
        ["/static/watchlist.js"],
        ["/static/workbench.js"],
        ["/static/map.js"],
        ["/static/incidents.js"],
    ]
    assert all(not body.strip() for _, body in scripts)
    assert not re.search(r"\son\w+=", html)  # no inline handlers either
    for script in ("app.js", "alerts.js", "watchlist.js", "workbench.js", "map.js"):
        code = (WEB_DIR / script).read_text()
        assert not re.search(r"\.(inner|outer)HTML\b|insertAdjacentHTML|document\.write", code)
