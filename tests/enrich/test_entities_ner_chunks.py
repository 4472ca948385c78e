"""What NER reads of a long text: pieces cut at boundaries, up to a limit, marked when short."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.enrich.ner import NER_CHUNK_CHARS, NER_MAX_CHARS, ner_chunks


def test_a_report_is_one_piece_read_whole() -> None:
    text = "Caller saw a van outside the mosque."
    plan = ner_chunks(text)
    assert plan.chunks == ((0, len(text)),)
    assert not plan.truncated
    assert ner_chunks("").chunks == ()


def test_pieces_end_at_paragraphs_then_lines_then_sentences_then_words() -> None:
    para = "a" * 60 + "\n\n" + "b" * 30 + "\n" + "c" * 20
    assert ner_chunks(para, size=100).chunks[0] == (0, 62)
    line = "a" * 60 + "\n" + "b" * 30 + ". " + "c" * 20
    assert ner_chunks(line, size=100).chunks[0] == (0, 61)
    sentence = "a" * 60 + ". " + "b" * 30 + " " + "c" * 20
    assert ner_chunks(sentence, size=100).chunks[0] == (0, 62)
    words = "a" * 60 + " " + "b" * 60
    assert ner_chunks(words, size=100).chunks[0] == (0, 61)
    one_word = "a" * 250
    assert ner_chunks(one_word, size=100).chunks == ((0, 100), (100, 200), (200, 250))


def test_a_boundary_too_early_is_not_taken() -> None:
    # A paragraph break in the first half of a piece would make pieces tiny: a later word
    # boundary is taken instead.
    text = "a" * 10 + "\n\n" + "b " * 100
    start, end = ner_chunks(text, size=100).chunks[0]
    assert start == 0 and 50 <= end <= 100 and text[end - 1] == " "


def test_a_long_text_is_read_up_to_the_limit_at_a_boundary_and_marked() -> None:
    text = "The caller said this. " * (NER_MAX_CHARS // 10)
    plan = ner_chunks(text)
    reach = plan.chunks[-1][1]
    assert NER_MAX_CHARS - NER_CHUNK_CHARS // 2 <= reach <= NER_MAX_CHARS
    assert text[reach - 2 : reach] == ". "
    assert plan.truncated


def test_only_whitespace_beyond_the_limit_is_not_a_truncation() -> None:
    text = "word " * (NER_MAX_CHARS // 5) + "\n" * 50
    assert len(text) > NER_MAX_CHARS
    assert not ner_chunks(text).truncated


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("ab .\n!?"), max_size=3_000),
    st.integers(10, 400),
    st.integers(1, 4_000),
)
def test_pieces_tile_what_is_read_each_at_most_the_size(text: str, size: int, limit: int) -> None:
    plan = ner_chunks(text, limit=limit, size=size)
    reach = plan.chunks[-1][1] if plan.chunks else 0
    assert all(0 < end - start <= size for start, end in plan.chunks)
    assert all(a[1] == b[0] for a, b in pairwise(plan.chunks))
    assert not plan.chunks or plan.chunks[0][0] == 0
    if len(text) <= limit:
        assert reach == len(text) and not plan.truncated
    else:
        assert reach <= limit
        assert plan.truncated == (not text[reach:].isspace())
