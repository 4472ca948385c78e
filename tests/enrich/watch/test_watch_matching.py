"""Watch matching through the real extractors: every written form, names, expiry, isolation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import ValidationError

from pipeline.enrich.exact import extract_exact
from pipeline.enrich.extract import Enricher
from pipeline.enrich.mentions import Enrichment, EntityType, Mention
from pipeline.enrich.names import clean_entity
from pipeline.enrich.regions import POSTCODE_AREAS
from pipeline.enrich.watch import Watchlist, mention_key
from tests.enrich.watch.factory import NOW, entry

# Forms of one value each, every one written as people write it in reports.
FORMS: dict[EntityType, list[str]] = {
    EntityType.PHONE: [
        "07700 900123", "07700900123", "(07700) 900 123", "07700 900 123", "07700-900-123",
        "07700.900.123", "0 7 7 0 0 9 0 0 1 2 3", "+44 7700 900123", "+447700900123",
        "+44 (0)7700 900123", "0044 7700 900123",
    ],
    EntityType.VEHICLE: ["AB12 CDE", "AB12CDE", "ab12 cde", "ab12cde", "Ab12 cDe", "AB 12 CDE"],
    EntityType.HANDLE: ["@Northern_Lion88", "@northern_lion88", "@NORTHERN_LION88"],
    EntityType.EMAIL: [
        "Fatima.Khan@Example.co.uk", "fatima.khan@example.co.uk", "FATIMA.KHAN@EXAMPLE.CO.UK",
    ],
    EntityType.URL: [
        "https://youtu.be/Xk3P9qLm2Tw?si=abc", "youtu.be/Xk3P9qLm2Tw",
        "https://www.youtube.com/watch?v=Xk3P9qLm2Tw", "youtube.com/watch?v=Xk3P9qLm2Tw",
        "HTTPS://WWW.YOUTUBE.COM/watch?v=Xk3P9qLm2Tw&utm_source=x#t=1",
        "www.youtube.com/watch?v=Xk3P9qLm2Tw&feature=share",
        "https://m.youtube.com/watch?v=Xk3P9qLm2Tw&fbclid=abc",
        "https://www.youtube.com:443/watch?v=Xk3P9qLm2Tw",
    ],
    EntityType.POSTCODE: ["SW1A 1AA", "SW1A1AA", "sw1a 1aa", "sw1a1aa", "Sw1A 1aA"],
}  # fmt: skip
# Older plates, read in capitals only, each in both its spacings.
OLD_PLATES = [["A123 BCD", "A123BCD"], ["ABC 123D", "ABC123D"], ["ABZ 1234", "ABZ1234"]]


def in_a_report(written: str) -> str:
    return f"Caller says the subject used {written} twice last week, and again on Friday."


def the_mention(written: str, kind: EntityType) -> Mention:
    """The one mention of `kind` the real exact extractors find for `written` in a report."""
    [found] = [m for m in extract_exact(in_a_report(written)) if m.type is kind]
    assert found.text == written
    return found


def assert_all_forms_match(kind: EntityType, forms: list[str]) -> None:
    """An entry written in any form matches a report written in any form."""
    watchlist = Watchlist(entry(f"{kind.value}:{form}", id=f"e{i}") for i, form in enumerate(forms))
    for written in forms:
        mention = the_mention(written, kind)
        matched = watchlist.match(Enrichment.from_mentions([mention], None), NOW)
        assert {m.entry.id for m in matched} == {f"e{i}" for i in range(len(forms))}, written
        assert {m.mention for m in matched} == {mention}


@pytest.mark.parametrize("kind", list(FORMS), ids=[k.value for k in FORMS])
def test_every_selector_type_matches_in_every_written_form(kind: EntityType) -> None:
    assert_all_forms_match(kind, FORMS[kind])


@pytest.mark.parametrize("forms", OLD_PLATES, ids=[f[0] for f in OLD_PLATES])
def test_older_plates_match_in_both_spacings_and_from_a_lower_case_entry(forms: list[str]) -> None:
    assert_all_forms_match(EntityType.VEHICLE, forms)
    assert entry(f"vehicle:{forms[0].lower()}").key == mention_key(
        the_mention(forms[0], EntityType.VEHICLE)
    )


def test_a_handle_entry_may_leave_out_the_at_sign() -> None:
    mention = the_mention("@Northern_Lion88", EntityType.HANDLE)
    assert Watchlist([entry("handle:northern_lion88")]).match([mention], NOW)


# Hypothesis: random values in random written forms, the entry in yet another form.
def _cased(text: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(text), max_size=len(text)).map(
        lambda upper: "".join(
            c.upper() if u else c.lower() for c, u in zip(text, upper, strict=True)
        )
    )


@st.composite
def phone_forms(draw: st.DrawFn) -> str:
    national = draw(st.sampled_from(["07700 900", "0161 496 0", "020 7946 0", "07911 1"]))
    digits = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=3, max_size=3)))
    number = national.replace(" ", "") + digits
    if number.startswith("07911"):
        number += "23"  # 07911 1ddd23: a real mobile range, beyond the drama ones
    style = draw(st.sampled_from(["compact", "spaced", "dashed", "plus", "plus0", "00"]))
    head, tail = (number[:5], number[5:]) if number[1] == "7" else (number[:-7], number[-7:])
    return {
        "compact": number,
        "spaced": f"{head} {tail}",
        "dashed": f"{head}-{tail}",
        "plus": f"+44 {head[1:]} {tail}",
        "plus0": f"+44 (0){head[1:]} {tail}",
        "00": f"0044 {head[1:]} {tail}",
    }[style]


@st.composite
def plate_forms(draw: st.DrawFn) -> str:
    tag = draw(st.text("ABCDEFGHJKLMNOPRSTUVWXY", min_size=2, max_size=2))
    age = draw(st.sampled_from([f"{n:02d}" for n in (*range(2, 40), *range(51, 90))]))
    rest = draw(st.text("ABCDEFGHJKLMNOPRSTUVWXYZ", min_size=3, max_size=3))
    return draw(_cased(tag + age + draw(st.sampled_from(["", " "])) + rest))


@st.composite
def postcode_forms(draw: st.DrawFn) -> str:
    area = draw(st.sampled_from(sorted(POSTCODE_AREAS)))
    district = draw(st.integers(1, 29))
    unit = draw(st.text("ABDEFGHJLNPQRSTUWXYZ", min_size=2, max_size=2))
    space = draw(st.sampled_from(["", " "]))
    return draw(_cased(f"{area}{district}{space}{draw(st.integers(0, 9))}{unit}"))


_NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
_handle_forms = (
    st.text(_NAME_CHARS + "_", min_size=1, max_size=15).flatmap(_cased).map("@{}".format)
)
_email_forms = st.tuples(
    st.text(_NAME_CHARS, min_size=1, max_size=12), st.text("abcdefghij", min_size=1, max_size=10)
).flatmap(lambda p: _cased(f"{p[0]}.x@{p[1]}.co.uk"))
_url_forms = st.tuples(
    st.sampled_from(["https://", "http://", "HTTPS://", "www.", "https://www."]),
    st.text("abcdefghij", min_size=1, max_size=10),
    st.text(_NAME_CHARS + "/-", max_size=20),
    st.sampled_from(["", "?utm_source=tw", "?id=3&gclid=z", "#frag", "?a=1&fbclid=q#x"]),
).map(lambda p: f"{p[0]}{p[1]}.org/{p[2]}{p[3]}")

SELECTOR_FORMS = {
    EntityType.PHONE: phone_forms(),
    EntityType.VEHICLE: plate_forms(),
    EntityType.POSTCODE: postcode_forms(),
    EntityType.HANDLE: _handle_forms,
    EntityType.EMAIL: _email_forms,
    EntityType.URL: _url_forms,
}


@pytest.mark.parametrize("kind", list(SELECTOR_FORMS), ids=[k.value for k in SELECTOR_FORMS])
def test_any_form_the_extractors_accept_matches_an_entry_written_that_way(
    kind: EntityType,
) -> None:
    @given(written=SELECTOR_FORMS[kind])
    def check(written: str) -> None:
        found = [m for m in extract_exact(in_a_report(written)) if m.type is kind]
        assume(len(found) == 1 and found[0].text == written)  # a form the extractors accept
        made = entry(f"{kind.value}:{written}")
        assert [m.entry for m in Watchlist([made]).match(found, NOW)] == [made]

    check()


@given(form=phone_forms(), other=phone_forms())
def test_two_forms_of_one_phone_give_one_key(form: str, other: str) -> None:
    same = "".join(filter(str.isdigit, form))[-9:] == "".join(filter(str.isdigit, other))[-9:]
    assert (entry(f"phone:{form}").key == entry(f"phone:{other}").key) == same


# Names: NER's spans go through clean_entity, as in the enrich stage.
def name_mention(text: str, kind: EntityType = EntityType.PERSON) -> Mention:
    cleaned = clean_entity(text, 0, len(text), kind)
    assert cleaned is not None
    return cleaned


@pytest.mark.parametrize(
    "written", ["Fatima Khan", "FATIMA KHAN", "fatima khan", "Mrs Fatima Khan", "Fátima Khan"]
)
@pytest.mark.parametrize(
    "watched", ["person:KHAN Fatima", "person:khan, fatima", "org:Fatima Khan"]
)
def test_names_match_in_tolerant_forms(written: str, watched: str) -> None:
    assert Watchlist([entry(watched)]).match([name_mention(written)], NOW)


def test_a_name_matches_whole_names_only() -> None:
    watchlist = Watchlist([entry("person:Fatima Khan")])
    for other in ["Fatima", "Fatima Begum Khan", "Fatima Khanum"]:
        assert not watchlist.match([name_mention(other)], NOW), other


def test_an_org_matches_an_org_mention_whatever_ner_called_it() -> None:
    watchlist = Watchlist([entry("org:NETWORK RAIL")])
    assert watchlist.match([name_mention("network rail", EntityType.ORG)], NOW)
    assert watchlist.match([name_mention("Network Rail", EntityType.PERSON)], NOW)
    assert not watchlist.match([Mention(EntityType.LOCATION, "x", "Network Rail", 0, 1)], NOW)


def test_names_match_through_real_ner(enricher: Enricher) -> None:
    text = (
        "Caller Fatima Khan (07700 900123) reports that Imran Hussain posts videos as "
        "@northern_lion88 and drives AB12 CDE."
    )
    [found] = enricher.enrich_texts([text])
    watchlist = Watchlist(
        [
            entry("person:KHAN Fatima", id="fatima"),
            entry("person:hussain imran", id="imran"),
            entry("vehicle:ab12cde", id="plate"),
        ]
    )
    assert [m.entry.id for m in watchlist.match(found, NOW)] == ["fatima", "imran", "plate"]


# Expiry and the index.
def test_an_expired_entry_does_not_match() -> None:
    mention = the_mention("07700 900123", EntityType.PHONE)
    made = entry("phone:07700900123", expiry=NOW + timedelta(days=1))
    watchlist = Watchlist([made])
    assert watchlist.match([mention], NOW + timedelta(hours=23))
    assert not watchlist.match([mention], made.expiry)
    assert not watchlist.match([mention], NOW + timedelta(days=30))
    assert watchlist.prune(NOW + timedelta(days=30)) == [made]
    assert len(watchlist) == 0


def test_add_replaces_an_entry_by_id_and_remove_drops_it() -> None:
    phone = the_mention("07700 900123", EntityType.PHONE)
    plate = the_mention("AB12 CDE", EntityType.VEHICLE)
    watchlist = Watchlist([entry("phone:07700 900123", id="e1")])
    watchlist.add(entry("vehicle:AB12CDE", id="e1"))  # the entry changed its target
    assert (len(watchlist), watchlist.match([phone], NOW)) == (1, [])
    assert [m.entry.id for m in watchlist.match([plate], NOW)] == ["e1"]
    assert watchlist.remove("e1") is not None
    assert watchlist.remove("e1") is None
    assert "e1" not in watchlist
    assert not watchlist.match([plate], NOW)


def test_replace_holds_exactly_the_new_entries() -> None:
    watchlist = Watchlist([entry("phone:07700 900123", id="old")])
    watchlist.replace([entry("phone:07700 900123", id="new")])
    assert watchlist.get("old") is None
    assert [m.entry.id for m in watchlist.match(extract_exact("07700 900123"), NOW)] == ["new"]


def test_matches_come_in_mention_order_then_entry_id() -> None:
    text = "Ring 07700 900123, then AB12 CDE left, then 07700900123 again."
    watchlist = Watchlist(
        [
            entry("phone:07700 900123", id="b"),
            entry("vehicle:AB12CDE", id="c"),
            entry("phone:+447700900123", id="a"),
            entry("phone:07700 900124", id="d"),
        ]
    )
    matched = watchlist.match(extract_exact(text), NOW)
    assert [(m.entry.id, m.mention.start) for m in matched] == [
        ("a", 5),
        ("b", 5),
        ("c", 24),
        ("a", 44),
        ("b", 44),
    ]


@given(values=st.lists(st.tuples(st.sampled_from(sorted(FORMS)), st.text(max_size=40))))
def test_no_entry_can_change_what_another_matches(values: list[tuple[str, str]]) -> None:
    """Arbitrary values are refused at creation or kept; either way the watched phone matches."""
    watched = entry("phone:07700 900123", id="watched")
    others = []
    for i, (kind, value) in enumerate(values):
        try:
            others.append(entry(f"{kind}:{value}", id=f"other-{i}"))
        except ValidationError:
            continue
    watchlist = Watchlist([*others, watched])
    matched = watchlist.match(extract_exact(in_a_report("07700 900123")), NOW)
    assert "watched" in {m.entry.id for m in matched}
    assert all(m.entry.target.key == (mention_key(m.mention) or ("", ""))[1] for m in matched)
