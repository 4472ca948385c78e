"""Normal form, fingerprint and shingles."""

from __future__ import annotations

from pipeline.enrich.dedup.text import fingerprint, normalise, shingles


def test_normalise_folds_case_punctuation_whitespace_and_compatibility_forms() -> None:
    assert normalise("  Suspicious   VAN,\tparked!! ") == "suspicious van parked"
    assert normalise("ＷＨＩＴＥ van — oﬃce") == "white van office"
    assert normalise("Straße") == normalise("STRASSE")


def test_fingerprint_equal_for_case_spacing_and_punctuation_edits() -> None:
    original = "Two men, carrying heavy bags, at 2am."
    assert fingerprint(original) == fingerprint("two men carrying heavy bags at 2am")
    assert fingerprint(original) == fingerprint("TWO MEN -- CARRYING HEAVY BAGS AT 2AM!!")
    assert fingerprint(original) != fingerprint("Two men carrying heavy bags at 3am.")


def test_fingerprint_is_none_without_words() -> None:
    assert fingerprint(" ... !!! ") is None
    assert fingerprint("") is None


def test_shingles_are_word_windows_and_short_texts_get_one() -> None:
    assert shingles("a b c d", 3) == {b"a b c", b"b c d"}
    assert shingles("Hello there", 3) == {b"hello there"}
    assert shingles("!!", 3) == set()
