"""The Elasticsearch-backed deduplicator: shared state, idempotence, races between workers."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from pipeline.clients import elasticsearch_client
from pipeline.enrich.clusters import ClusterAssignment
from pipeline.enrich.dedup import Deduplicator, state
from pipeline.enrich.dedup.evaluate import DEFAULT_LABELS, in_memory, load_labelled, score
from pipeline.enrich.dedup.keys import DedupParams
from pipeline.enrich.dedup.state import LOCK_ID, state_index
from pipeline.enrich.mentions import Enrichment
from pipeline.errors import SearchRefused, SearchUnavailable, SinkBackpressure
from pipeline.ingest.report import Report
from pipeline.settings import Settings

pytestmark = pytest.mark.integration

MakeReport = Callable[..., Report]

STORIES = [
    "Unattended blue holdall left under a bench on platform {n} at Manchester Piccadilly for "
    "over an hour. A man left it there and walked off quickly towards the taxi rank without "
    "looking back. Station staff have been told but I wanted to report it as well.",
    "A Telegram channel posted a message yesterday saying people should attack the event in "
    "town number {n} next month. The post has a picture of the route with crosses drawn on it "
    "and the admin uses a handle that mentions lions of the north.",
]


def story(seed: str) -> str:
    """A 40-word text of its own: two seeds share (almost) no 3-word shingle."""
    words = " ".join(STORIES).replace(".", "").split()
    return " ".join(random.Random(seed).choices(words, k=40)) + "."


@pytest.fixture
def dedup_settings(settings: Settings, index_factory: Callable[[str], str]) -> Settings:
    """Settings whose alias (and so state index and template) is unique to the test."""
    return settings.model_copy(update={"index_alias": index_factory("dedup")})


@pytest.fixture
def deduplicator(es: Elasticsearch, dedup_settings: Settings) -> Deduplicator:
    made = Deduplicator(es, dedup_settings)
    made.ensure()
    return made


def assign(dedup: Deduplicator, reports: Sequence[Report]) -> list[ClusterAssignment]:
    return dedup.assign(reports, [Enrichment() for _ in reports])


def test_ensure_is_idempotent_and_the_state_index_follows_the_alias(
    es: Elasticsearch, dedup_settings: Settings, deduplicator: Deduplicator
) -> None:
    deduplicator.ensure()
    Deduplicator(es, dedup_settings).ensure()
    index = state_index(dedup_settings.index_alias)
    assert index == f"{dedup_settings.index_alias}-dedup"
    assert es.indices.exists(index=index)
    assert es.indices.exists_index_template(name=index)


def test_near_duplicates_across_batches_share_a_cluster(
    deduplicator: Deduplicator, make_report: MakeReport
) -> None:
    text = STORIES[0].format(n=3)
    first = assign(deduplicator, [make_report(text), make_report(STORIES[1].format(n=1))])
    later = assign(deduplicator, [make_report("Hello, " + text.lower())])
    assert first[0].duplicate is False
    assert later[0] == ClusterAssignment(first[0].cluster_id, duplicate=True)
    assert first[1].cluster_id != first[0].cluster_id


def test_redelivery_and_restart_give_the_same_answers(
    es: Elasticsearch,
    dedup_settings: Settings,
    deduplicator: Deduplicator,
    make_report: MakeReport,
) -> None:
    text = STORIES[1].format(n=7)
    batch = [make_report(text, "x-1"), make_report(text + " Thanks.", "x-2")]
    answers = assign(deduplicator, batch)
    assert [a.duplicate for a in answers] == [False, True]
    assert assign(deduplicator, batch) == answers
    restarted = Deduplicator(elasticsearch_client(dedup_settings), dedup_settings)
    restarted.ensure()
    # Redelivered in reverse order, beside a new report: the stored answers come back.
    again = assign(restarted, [batch[1], make_report(text + " Please hurry."), batch[0]])
    assert again[0] == answers[1]
    assert again[2] == answers[0]
    assert again[1] == ClusterAssignment(answers[0].cluster_id, duplicate=True)
    es.indices.refresh(index=restarted.index)
    assert es.count(index=restarted.index, q="_id:lock")["count"] == 0


def test_two_workers_racing_on_near_duplicates_end_in_one_cluster(
    dedup_settings: Settings, make_report: MakeReport
) -> None:
    workers = [Deduplicator(elasticsearch_client(dedup_settings), dedup_settings) for _ in range(2)]
    workers[0].ensure()
    rounds = 5
    barrier = threading.Barrier(2)
    results: list[list[list[ClusterAssignment]]] = [[], []]
    errors: list[BaseException] = []

    def run(worker: int) -> None:
        try:
            for round_ in range(rounds):
                # Each worker gets its own wording of the same two stories, at the same moment.
                greeting = ("Hi, ", "Good evening. ")[worker]
                batch = [
                    make_report(greeting + story(f"{round_}-{s}"), f"w{worker}-{round_}-{s}")
                    for s in range(3)
                ]
                barrier.wait(timeout=30)
                results[worker].append(assign(workers[worker], batch))
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(w,)) for w in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    opened = {a.cluster_id for batches in results for batch in batches for a in batch}
    assert len(opened) == rounds * 3  # one cluster per story: none split, none merged
    for round_ in range(rounds):
        for s in range(3):
            pair = [results[w][round_][s] for w in range(2)]
            assert pair[0].cluster_id == pair[1].cluster_id
            assert sorted(a.duplicate for a in pair) == [False, True]


def test_an_expired_lock_is_broken_and_a_live_one_waited_for(
    es: Elasticsearch, dedup_settings: Settings, make_report: MakeReport
) -> None:
    index = state_index(dedup_settings.index_alias)
    patient = Deduplicator(es, dedup_settings.model_copy(update={"dedup_lock_wait_s": 0.3}))
    patient.ensure()
    stale = {"owner": "crashed", "expires_ms": int(time.time() * 1000) - 1}
    es.create(index=index, id=LOCK_ID, document=stale)
    assert assign(patient, [make_report(STORIES[0].format(n=1))])[0].duplicate is False

    live = {"owner": "busy", "expires_ms": int(time.time() * 1000) + 60_000}
    es.create(index=index, id=LOCK_ID, document=live)
    with pytest.raises(SinkBackpressure):
        assign(patient, [make_report(STORIES[0].format(n=2))])


def test_a_write_stopped_between_claims_and_answers_leaves_the_opener_first(
    dedup_settings: Settings,
    deduplicator: Deduplicator,
    make_report: MakeReport,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = story("interrupted")
    batch = [
        make_report(text, "k-open"),
        make_report("Hello, " + text, "k-near"),
        make_report(text, "k-same"),
        make_report(story("unrelated"), "k-other"),
    ]
    create_all = state.create_all

    def killed_after_the_claims(es: Elasticsearch, index: str, docs: dict[str, Any]) -> None:
        # what a worker killed between the claim write and the answer write leaves behind
        create_all(es, index, {k: v for k, v in docs.items() if not k.startswith("r:")})
        raise SinkBackpressure("killed after the claim write")

    monkeypatch.setattr(state, "create_all", killed_after_the_claims)
    with pytest.raises(SinkBackpressure):
        assign(deduplicator, batch)
    monkeypatch.setattr(state, "create_all", create_all)

    # redelivered to a restarted worker, then once more: the answers it gets are stored
    restarted = Deduplicator(elasticsearch_client(dedup_settings), dedup_settings)
    answers = assign(restarted, batch)
    assert assign(restarted, batch) == answers
    opener, near, same, other = answers
    assert opener.duplicate is False, "the report that opened the cluster is its own duplicate"
    assert near == same == ClusterAssignment(opener.cluster_id, duplicate=True)
    assert other.duplicate is False and other.cluster_id != opener.cluster_id
    # exactly one `duplicate: false` per cluster
    openers: dict[str, int] = {}
    for answer in answers:
        openers[answer.cluster_id] = openers.get(answer.cluster_id, 0) + (not answer.duplicate)
    assert openers == {opener.cluster_id: 1, other.cluster_id: 1}


def test_state_reads_that_fail_are_not_read_as_not_found(
    es: Elasticsearch, deduplicator: Deduplicator, make_report: MakeReport
) -> None:
    first = make_report(story("read"))
    assign(deduplicator, [first])
    es.indices.close(index=deduplicator.index)
    try:
        with pytest.raises(SearchUnavailable) as caught:
            state.fetch(es, deduplicator.index, ["lock", "r:anything"])
        assert caught.value.reason == "index_unavailable"
    finally:
        es.indices.open(index=deduplicator.index, wait_for_active_shards="all")
    assert assign(deduplicator, [first])[0].duplicate is False


def test_a_write_block_on_the_state_is_backpressure_not_a_crash(
    es: Elasticsearch, deduplicator: Deduplicator, make_report: MakeReport
) -> None:
    es.indices.put_settings(index=deduplicator.index, settings={"index.blocks.write": True})
    try:
        with pytest.raises(SearchRefused) as caught:
            state.create_all(es, deduplicator.index, {"fp:x": {"c": "a", "r": "a"}})
        assert caught.value.reason == "blocked"
        with pytest.raises(SearchRefused) as caught:
            assign(deduplicator, [make_report(story("blocked"))])
        assert caught.value.reason == "blocked"
    finally:
        es.indices.put_settings(index=deduplicator.index, settings={"index.blocks.write": None})


def test_labelled_set_clusters_the_same_through_elasticsearch(
    deduplicator: Deduplicator,
) -> None:
    labelled = load_labelled(DEFAULT_LABELS)
    through_es = score(labelled, deduplicator.assign, batch_size=20)
    in_process = score(labelled, in_memory(DedupParams()), batch_size=20)
    assert through_es == in_process
    assert through_es.precision >= 0.95
    assert through_es.recall >= 0.90
