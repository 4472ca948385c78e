"""Restricted-safe matching: an analyst's entry sees what analysts read, a restricted one more."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pipeline.enrich.exact import extract_exact
from pipeline.enrich.mentions import EntityType, Mention
from pipeline.enrich.restricted import protect
from pipeline.enrich.watch import Match, Watchlist
from pipeline.enrich.watch.alerts import Sighting, alert_documents
from pipeline.enrich.watch.matcher import field_values
from tests.enrich.watch.factory import NOW, entry

CALLER = {"caller": {"name": "Fatima Khan", "phone": "07700 900123", "email": "F.Khan@Mail.org"}}
TEXT = "Caller rang from 07700 900123 about a van AB12 CDE seen near the depot."


def matches(
    watchlist: Watchlist, text: str, restricted: dict[str, Any], *names: str
) -> list[Match]:
    """`match_report` over what the exact extractors find plus the given NER person spans."""
    mentions = extract_exact(text)
    for name in names:
        start = text.index(name)
        mentions.append(Mention(EntityType.PERSON, name, name, start, start + len(name)))
    return watchlist.match_report(text, mentions, restricted, NOW)


def test_an_analyst_entry_on_the_callers_phone_matches_nothing_a_restricted_one_does() -> None:
    analyst = entry("phone:+44 7700 900123", id="analyst")
    restricted = entry("phone:07700900123", id="restricted", restricted=True)
    found = matches(Watchlist([analyst, restricted]), TEXT, CALLER)
    assert {m.entry.id for m in found} == {"restricted"}
    narrative, own = found  # repeated in the narrative, then the caller's own field
    assert (narrative.field, narrative.in_narrative) == ("caller.phone", True)
    assert TEXT[narrative.mention.start : narrative.mention.end] == "07700 900123"  # type: ignore[union-attr]
    assert (own.field, own.in_narrative, own.mention.value) == (  # type: ignore[union-attr]
        "caller.phone",
        False,
        "+447700900123",
    )


def test_public_mentions_match_every_entry_with_offsets_into_the_masked_text() -> None:
    analyst, restricted = entry("vehicle:AB12CDE", id="a"), entry("vehicle:ab12 cde", id="r")
    restricted = restricted.model_copy(update={"restricted": True})
    found = matches(Watchlist([analyst, restricted]), TEXT, CALLER)
    assert [(m.entry.id, m.field) for m in found] == [("a", None), ("r", None)]
    masked = protect(TEXT, extract_exact(TEXT), CALLER).text
    for match in found:
        assert match.mention is not None
        assert masked[match.mention.start : match.mention.end] == "AB12 CDE"


def test_a_restricted_entry_matches_the_fields_a_narrative_never_repeats() -> None:
    details = {
        "reporter": {"email": "Tip.Off@Example.org", "anonymous": False},
        "subject": {"name": "Mr KHAN, Imran", "age": 19},
    }
    watchlist = Watchlist(
        [
            entry("email:tip.off@example.org", id="mail", restricted=True),
            entry("person:Imran Khan", id="subject", restricted=True),
            entry("person:Imran Khan", id="analyst"),
        ]
    )
    found = matches(watchlist, "Nothing personal is written here.", details)
    assert [(m.entry.id, m.field, m.in_narrative) for m in found] == [
        ("subject", "subject.name", False),
        ("mail", "reporter.email", False),
    ]


def test_a_name_the_narrative_repeats_is_restricted_for_ner_and_scan_alike() -> None:
    text = "Fatima Khan says the man by the van is FATIMA KHAN's neighbour."
    watchlist = Watchlist(
        [
            entry("person:khan fatima", id="analyst"),
            entry("person:Fatima Khan", id="r", restricted=True),
        ]
    )
    found = matches(watchlist, text, CALLER, "Fatima Khan")
    assert {m.entry.id for m in found} == {"r"}
    assert {m.field for m in found} == {"caller.name"}


def test_field_values_are_normalised_as_protect_reads_them() -> None:
    values = {(m.mention.type, m.mention.value, m.field) for m in field_values(CALLER)}
    assert values == {
        (EntityType.PERSON, "Fatima Khan", "caller.name"),
        (EntityType.PHONE, "+447700900123", "caller.phone"),
        (EntityType.EMAIL, "f.khan@mail.org", "caller.email"),
    }
    assert field_values({"caller": {"phone": "not a phone", "anonymous": True}}) == []


def _documents(found: list[Match]) -> list[dict[str, Any]]:
    sightings = [Sighting(m, f"r{n}", f"c{n}", "hotline_call", NOW) for n, m in enumerate(found)]
    return list(alert_documents(sightings).values())


def test_alert_documents_of_restricted_entries_say_so_and_name_the_field() -> None:
    watchlist = Watchlist(
        [entry("phone:07700900123", id="r", restricted=True), entry("vehicle:AB12CDE", id="a")]
    )
    docs = _documents(matches(watchlist, TEXT, CALLER))  # each match on a cluster of its own
    [analyst] = [d for d in docs if d["entry_id"] == "a"]
    narrative, own = [d for d in docs if d["entry_id"] == "r"]
    assert narrative["restricted"] is True and narrative["published"] is False
    assert narrative["mention"]["field"] == "caller.phone"
    start, end = narrative["mention"]["start"], narrative["mention"]["end"]
    assert TEXT[start:end] == narrative["mention"]["text"] == "07700 900123"
    assert own["mention"] == {
        "type": "phone",
        "text": "+447700900123",
        "value": "+447700900123",
        "field": "caller.phone",
    }
    assert analyst["restricted"] is False and "field" not in analyst["mention"]


_PHONES = st.sampled_from(["07700 900123", "07700900456", "+44 7911 123456", "020 7946 0018"])
_EMAILS = st.sampled_from(["a.b@example.org", "Watch.Me@Mail.org", "x@y.co.uk"])
_NAMES = st.sampled_from(["Fatima Khan", "Imran Hussain", "John O'Neill", "Ali Khan"])


@given(
    role=st.sampled_from(["reporter", "caller", "subject"]),
    phone=_PHONES,
    email=_EMAILS,
    name=_NAMES,
    said=st.lists(st.sampled_from(["phone", "email", "name"]), max_size=3),
)
def test_no_analyst_alert_carries_a_restricted_value(
    role: str, phone: str, email: str, name: str, said: list[str]
) -> None:
    """Whatever the narrative repeats, analysts' entries on every restricted value (and on
    everything else the report names) produce alerts holding none of those values."""
    details = {role: {"phone": phone, "email": email, "name": name}}
    spoken = {"phone": f"ring {phone}", "email": f"mail {email}", "name": f"ask for {name}"}
    text = "Report: " + ", ".join(spoken[kind] for kind in said) + "; van AB12 CDE."
    names = [name] if "name" in said else []
    analysts = [
        entry(f"phone:{phone}", id="p"),
        entry(f"email:{email}", id="e"),
        entry(f"person:{name}", id="n"),
        entry("vehicle:AB12CDE", id="v"),
    ]
    docs = _documents(matches(Watchlist(analysts), text, details, *names))
    assert [d["entry_id"] for d in docs] == ["v"]
    secrets = {phone, email, email.lower(), name, "+44" + phone.replace(" ", "")[1:]}
    assert not any(secret in repr(doc) for doc in docs for secret in secrets)
