"""Unit tests for marking and masking the reporter's, caller's and subject's own values."""

from __future__ import annotations

import pytest

from pipeline.enrich.exact import extract_exact
from pipeline.enrich.mentions import EntityType, Mention
from pipeline.enrich.restricted import Protected, RestrictedValues, protect

CALLER = {"caller": {"name": "Fatima Khan", "phone": "+447700900123", "email": "F.Khan@Mail.org"}}


def person(text: str, name: str, value: str | None = None) -> Mention:
    start = text.index(name)
    return Mention(EntityType.PERSON, name, value or name, start, start + len(name))


def run(text: str, restricted: dict[str, object], *names: str) -> Protected:
    """`protect` over what the exact extractors find plus the given NER person spans."""
    mentions = extract_exact(text) + [person(text, name) for name in names]
    return protect(text, mentions, restricted)


def assert_consistent(text: str, protected: Protected) -> None:
    """Public offsets point into the masked text, restricted ones into the original."""
    for mention in protected.mentions:
        assert protected.text[mention.start : mention.end] == mention.text
    for item in protected.restricted:
        assert text[item.mention.start : item.mention.end] == item.mention.text


@pytest.mark.parametrize(
    "written",
    ["07700 900123", "07700900123", "+44 7700 900123", "(07700) 900 123", "0044 7700 900123"],
)
def test_phone_written_any_way_is_the_caller_phone(written: str) -> None:
    text = f"She said to ring {written} after six. Van AB12 CDE."
    protected = run(text, CALLER)
    assert protected.text == "She said to ring [caller phone] after six. Van AB12 CDE."
    assert [(r.field, r.mention.value) for r in protected.restricted] == [
        ("caller.phone", "+447700900123")
    ]
    assert [m.value for m in protected.mentions] == ["AB12CDE"]
    assert_consistent(text, protected)


def test_restricted_phone_field_written_locally_matches_international_text() -> None:
    restricted = {"reporter": {"phone": "07700 900 123"}}
    protected = run("Call +447700900123 back", restricted)
    assert protected.text == "Call [reporter phone] back"


def test_email_matches_whatever_the_case() -> None:
    text = "Reply to f.khan@MAIL.ORG or to the desk at desk@mail.org."
    protected = run(text, CALLER)
    assert protected.text == "Reply to [caller email] or to the desk at desk@mail.org."
    assert [m.value for m in protected.mentions] == ["desk@mail.org"]
    assert_consistent(text, protected)


@pytest.mark.parametrize(
    "written", ["Fatima Khan", "KHAN Fatima", "Khan, Fatima", "fatima khan", "FATIMA  KHAN"]
)
def test_name_in_any_case_and_word_order_is_masked_with_or_without_ner(written: str) -> None:
    text = f"The caller, {written}, saw Imran Hussain at the station."
    with_ner = run(text, CALLER, written, "Imran Hussain")
    without_ner = run(text, CALLER, "Imran Hussain")
    for protected in (with_ner, without_ner):
        assert protected.text == "The caller, [caller name], saw Imran Hussain at the station."
        assert [m.value for m in protected.mentions] == ["Imran Hussain"]
        assert [r.field for r in protected.restricted] == ["caller.name"]
        assert_consistent(text, protected)


def test_restricted_name_with_a_title_matches_the_trimmed_ner_value() -> None:
    text = "Reported by Rhys Davies of Cardiff."
    restricted = {"reporter": {"name": "Mr Rhys DAVIES"}}
    assert run(text, restricted, "Rhys Davies").text == "Reported by [reporter name] of Cardiff."


def test_name_typed_as_a_place_by_ner_is_still_the_callers() -> None:
    # "Green" is a place word, so the names module files "Sarah Green" under location
    text = "Sarah Green rang about the van."
    mention = Mention(EntityType.LOCATION, "Sarah Green", "Sarah Green", 0, 11)
    protected = protect(text, [mention], {"caller": {"name": "Sarah Green"}})
    assert protected.text == "[caller name] rang about the van."
    assert protected.mentions == ()


@pytest.mark.parametrize(
    ("name", "text", "ner"),
    [
        ("Ali Khan", "Mohammed Ali Khan runs the gym; nobody else was there.", "Mohammed Ali Khan"),
        ("Fatima Khan", "Fatima Khanum was at the door.", "Fatima Khanum"),
        ("Fatima Khan", "Fatima Khan-Ali was at the door.", "Fatima Khan-Ali"),
        ("Fatima Khan", "Only Fatima came; Mr Khan stayed home.", None),
        ("Fatima Khan", "Imran Khan was there too.", "Imran Khan"),
        ("Ann Lee", "Anne Leeson and Joanne Lee were there.", None),
    ],
)
def test_a_name_only_part_of_another_name_is_not_masked(
    name: str, text: str, ner: str | None
) -> None:
    protected = run(text, {"caller": {"name": name}}, *([ner] if ner else []))
    assert protected.text == text
    assert protected.restricted == ()


def test_single_word_name_is_masked_only_where_a_mention_equals_it() -> None:
    text = "Ali says Mohammed Ali was at the mosque"
    mentions = [person(text, "Ali"), person(text, "Mohammed Ali")]
    protected = protect(text, mentions, {"caller": {"name": "ali"}})
    assert protected.text == "[caller name] says Mohammed Ali was at the mosque"
    assert [m.value for m in protected.mentions] == ["Mohammed Ali"]
    assert protected.mentions[0].start == len("[caller name] says ")


def test_the_same_name_twice_and_repeated_words_are_all_masked() -> None:
    text = "Fatima Khan, yes KHAN FATIMA; khan khan fatima."
    protected = run(text, CALLER)
    assert protected.text == "[caller name], yes [caller name]; khan [caller name]."


def test_anonymous_reporter_without_details_masks_nothing() -> None:
    text = "Anonymous caller, would not give a name, number withheld 07700 900123."
    protected = run(text, {"caller": {"anonymous": True}})
    assert protected.text == text
    assert [m.value for m in protected.mentions] == ["+447700900123"]
    assert not RestrictedValues.of({"caller": {"anonymous": True}})


def test_anonymous_reporter_who_still_gives_a_number_is_masked() -> None:
    restricted = {"reporter": {"anonymous": True, "phone": "07700 900123"}}
    assert run("ring 07700 900123", restricted).text == "ring [reporter phone]"


@pytest.mark.parametrize("restricted", [{}, {"subject": {"age": 15}}, {"caller": "odd value"}])
def test_no_restricted_values_changes_nothing(restricted: dict[str, object]) -> None:
    text = "A 15 year old was seen with Fatima Khan at 07700 900123."
    mentions = [*extract_exact(text), person(text, "Fatima Khan")]
    protected = protect(text, mentions, restricted)
    assert protected.text == text
    assert protected.restricted == ()
    assert sorted(protected.mentions, key=lambda m: m.start) == sorted(
        mentions, key=lambda m: m.start
    )


def test_subject_name_is_masked_as_the_subject() -> None:
    text = "Concern about Perpetua Snodgrass, 17, who shares videos."
    protected = run(text, {"subject": {"name": "Perpetua Snodgrass", "age": 17}})
    assert protected.text == "Concern about [subject name], 17, who shares videos."


def test_invalid_restricted_phone_never_masks_random_digits() -> None:
    protected = run("Order 12345 for ring 07700 900123", {"caller": {"phone": "12345"}})
    assert "[caller" not in protected.text


def test_mentions_after_masks_keep_pointing_at_their_text() -> None:
    text = "Fatima Khan (07700 900123) says @northern_lion88 posts on https://youtu.be/Xk3P9qLm2Tw"
    protected = run(text, CALLER, "Fatima Khan")
    assert protected.text.startswith("[caller name] ([caller phone]) says @northern_lion88")
    assert [m.type for m in protected.mentions] == [EntityType.HANDLE, EntityType.URL]
    assert_consistent(text, protected)
    # a span of the original that sits between masks moves with them
    start = text.index("says")
    moved = protected.moved(start, start + 4)
    assert moved is not None and protected.text[moved[0] : moved[1]] == "says"
    assert protected.moved(0, 3) is None
    assert protected.field_at(14, 16) == "caller.phone"


def test_a_mention_overlapping_a_masked_one_is_masked_with_it() -> None:
    text = "Call Fatima Khan Road office"
    mentions = [
        Mention(EntityType.PERSON, "Fatima Khan", "Fatima Khan", 5, 16),
        Mention(EntityType.LOCATION, "Khan Road", "Khan Road", 12, 21),
    ]
    protected = protect(text, mentions, CALLER)
    assert protected.text == "Call [caller name] office"
    assert protected.mentions == ()
    assert [r.field for r in protected.restricted] == ["caller.name", "caller.name"]


def test_a_long_run_of_repeated_name_words_is_matched_once() -> None:
    # "khan khan khan ..." makes the scan retry at every word; only the last pair is the name
    text = "khan " * 20_000 + "fatima"
    protected = protect(text, [], CALLER)
    assert protected.text.endswith("khan [caller name]")
    assert len(protected.restricted) == 1
