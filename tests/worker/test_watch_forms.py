"""Every selector type, in every written form the extractors accept, through a real worker.

One entry per type, written in its first form; one report per written form. Each report must
add exactly one hit to its type's entry, whatever form it uses (the unit tests in
tests/enrich/watch/test_watch_matching.py show the same for the matcher alone).
"""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from elasticsearch import Elasticsearch

from pipeline.enrich.watch.entries import WatchEntry
from pipeline.enrich.watch.store import ensure_watch_index, put_entry
from tests.enrich.watch.test_watch_matching import FORMS, in_a_report
from tests.harness import Deployment, wait_for
from tests.worker.support import committed, produce
from tests.worker.test_stream_path import report
from tests.worker.test_watch_alerts import _alerts

pytestmark = pytest.mark.integration


def test_each_selector_type_matches_in_every_written_form_on_the_stream(
    deployment: Deployment, es: Elasticsearch
) -> None:
    alias = deployment.settings.index_alias
    run = uuid.uuid4().hex[:8]
    ensure_watch_index(es, alias)
    for kind, forms in FORMS.items():
        entry = WatchEntry.model_validate(
            {
                "id": f"{kind.value}-{run}",
                "owner": "alice",
                "justification": "op forms",
                "target": f"{kind.value}:{forms[0]}",
            }
        )
        put_entry(es, alias, entry, refresh=True)
    records = [
        (
            f"f-{run}-{kind.value}-{n}".encode(),
            # a distinct story per record, so each is its own cluster as well as its own hit
            report(f"f-{run}-{kind.value}-{n}", f"Story {n} of {kind.value}. {in_a_report(form)}"),
        )
        for kind, forms in FORMS.items()
        for n, form in enumerate(forms)
    ]
    topic = deployment.topic("public-reports")
    worker = deployment.start_worker()
    produce(deployment, topic, records)
    wait_for(lambda: committed(deployment, topic) >= len(records), 240, "every record", worker.log)

    hits = _alerts(es, alias, "hit")
    per_entry = Counter(hit["entry_id"] for hit in hits)
    assert per_entry == {f"{kind.value}-{run}": len(forms) for kind, forms in FORMS.items()}
    assert len({hit["report_id"] for hit in hits}) == len(records)  # every form, one hit each
