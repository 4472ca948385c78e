"""The embedder: shape, unit length, determinism, long, empty and unknown input, weights, and a
missing or altered package."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.enrich import embed
from pipeline.enrich.embed import DIMS, Embedder
from pipeline.enrich.incidents.decide import IncidentParams
from pipeline.errors import ConfigError

EUSTON = "a man in a grey hoodie left a rucksack by the ticket barriers at Euston"
EUSTON_AGAIN = "bag abandoned near the gates at Euston station, bloke in a hoodie walked off"
UNRELATED = "my neighbour in Leeds has been buying fireworks in bulk from a market stall"


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder.load()


def test_load_is_once_per_process(embedder: Embedder) -> None:
    assert Embedder.load() is embedder


def test_vectors_are_float32_unit_length_in_the_order_given(embedder: Embedder) -> None:
    texts = [EUSTON, UNRELATED, EUSTON_AGAIN, "x"]
    vectors = embedder.embed(texts)
    assert vectors.shape == (4, DIMS)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors[1], embedder.embed([UNRELATED])[0])


def test_the_same_event_in_other_words_is_closer_than_an_unrelated_report(
    embedder: Embedder,
) -> None:
    a, b, c = embedder.embed([EUSTON, EUSTON_AGAIN, UNRELATED])
    assert a @ b > a @ c + 0.2  # static vectors: unrelated English sits near 0.5, not 0
    # in the rule's terms: with Euston shared they join; sharing a place would not join the other
    params = IncidentParams()
    assert a @ b + params.place_bonus >= params.threshold > a @ c + params.place_bonus


def test_a_text_gets_the_same_vector_whatever_it_is_batched_with(embedder: Embedder) -> None:
    alone = embedder.embed([EUSTON])
    crowded = embedder.embed([UNRELATED * 20, EUSTON, *[EUSTON_AGAIN] * 40])
    assert np.array_equal(embedder.embed([EUSTON]), alone)
    assert np.abs(crowded[1] - alone[0]).max() < 1e-5


def test_no_texts_and_empty_texts(embedder: Embedder) -> None:
    assert embedder.embed([]).shape == (0, DIMS)
    empty = embedder.embed(["", "   "])
    assert np.allclose(np.linalg.norm(empty, axis=1), 1.0, atol=1e-5)


def test_a_text_of_no_known_word_is_stable_and_near_nothing_else(embedder: Embedder) -> None:
    unknown = ["", "   ", "zzqx vvrt", "+447700900123 12:30", "Дом у вокзала"]
    vectors = embedder.embed([*unknown, EUSTON])
    assert np.array_equal(vectors[:5], embedder.embed(unknown))  # same on every worker/replay
    cosines = vectors @ vectors.T
    off_diagonal = cosines[~np.eye(len(vectors), dtype=bool)]
    assert np.abs(off_diagonal).max() < 0.3  # 300 random directions: |cos| ~ 0.06


def test_common_words_weigh_less_than_rare_ones(embedder: Embedder) -> None:
    weight = {word: embedder._words[word][1] for word in ("said", "station", "rucksack")}
    assert weight["said"] < weight["station"] < weight["rucksack"] <= 1.0
    assert "the" not in embedder._words  # a stop word: no row at all
    # a sentence padded with common words still points where its rare words do
    padded = "well so then I said that a rucksack was left by the barriers at Euston"
    plain, filled = embedder.embed(["rucksack left barriers Euston", padded])
    assert plain @ filled > 0.9


def test_case_and_punctuation_do_not_move_a_vector(embedder: Embedder) -> None:
    a, b = embedder.embed([EUSTON, EUSTON.upper().replace(" ", " ,  ")])
    assert np.abs(a - b).max() < 1e-6


def test_a_long_text_is_read_up_to_the_limit_only(embedder: Embedder) -> None:
    head = (EUSTON + " ") * (embed.MAX_CHARS // len(EUSTON) + 1)
    long, longer = embedder.embed([head, head + UNRELATED * 20_000])  # ~1.5 MB
    assert np.abs(long - longer).max() < 1e-6


def test_a_missing_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embed, "_VECTORS", ("no-such-vectors-package", "vectors", "0" * 64))
    with pytest.raises(ConfigError, match=r"no-such-vectors-package.*bootstrap"):
        embed.pinned_file(*embed._VECTORS)


@pytest.mark.parametrize("pinned", ["_VECTORS", "_KEY2ROW", "_STRINGS", "_FREQUENCIES"])
def test_a_file_that_is_not_the_pinned_one_is_refused(pinned: str) -> None:
    name, path, digest = getattr(embed, pinned)
    assert embed.pinned_file(name, path, digest)  # the installed one is
    with pytest.raises(ConfigError, match="not the pinned file"):
        embed.pinned_file(name, path, "0" * 64)
