"""The embedder: shape, unit length, determinism, long and empty input, a missing package."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.enrich import embed
from pipeline.enrich.embed import DIMS, Embedder
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
    assert a @ b > a @ c + 0.3


def test_a_text_gets_the_same_vector_whatever_it_is_batched_with(embedder: Embedder) -> None:
    alone = embedder.embed([EUSTON])
    crowded = embedder.embed([UNRELATED * 20, EUSTON, *[EUSTON_AGAIN] * 40])
    assert np.array_equal(embedder.embed([EUSTON]), alone)
    assert np.abs(crowded[1] - alone[0]).max() < 1e-5


def test_no_texts_and_empty_texts(embedder: Embedder) -> None:
    assert embedder.embed([]).shape == (0, DIMS)
    empty = embedder.embed(["", "   "])
    assert np.allclose(np.linalg.norm(empty, axis=1), 1.0, atol=1e-5)


def test_a_long_text_is_read_up_to_the_model_limit_only(embedder: Embedder) -> None:
    head = " ".join([EUSTON] * 30)  # well past 256 tokens
    long, longer = embedder.embed([head, head + " " + UNRELATED * 20_000])  # ~1.6 MB
    assert np.abs(long - longer).max() < 1e-5


def test_a_missing_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embed, "_MODEL", ("no-such-model-package", "model.onnx", "0" * 64))
    with pytest.raises(ConfigError, match="no-such-model-package"):
        embed._installed_file(*embed._MODEL)


def test_a_file_that_is_not_the_pinned_one_is_refused() -> None:
    name, path, _ = embed._MODEL
    with pytest.raises(ConfigError, match="not the pinned file"):
        embed._installed_file(name, path, "0" * 64)
