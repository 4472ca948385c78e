"""Watchlist entries: targets parsed and normalised, names keyed, expiry, errors naming fields."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from pipeline.enrich.mentions import EntityType
from pipeline.enrich.watch import Priority, Target, WatchEntry, name_key
from tests.enrich.watch.factory import NOW, entry


@pytest.mark.parametrize(
    ("target", "key"),
    [
        ("phone:07700 900123", (EntityType.PHONE, "+447700900123")),
        ("PHONE: +44 (0)7700 900123 ", (EntityType.PHONE, "+447700900123")),
        ("vehicle:ab12cde", (EntityType.VEHICLE, "AB12CDE")),
        ("vehicle:a123 bcd", (EntityType.VEHICLE, "A123BCD")),
        ("handle:@X", (EntityType.HANDLE, "@x")),
        ("handle:Northern_Lion88", (EntityType.HANDLE, "@northern_lion88")),
        ("email:Fatima@Example.COM", (EntityType.EMAIL, "fatima@example.com")),
        (
            "url:youtu.be/Xk3P9qLm2Tw?si=abc",
            (EntityType.URL, "https://www.youtube.com/watch?v=Xk3P9qLm2Tw"),
        ),
        ("url:example.org/page?utm_source=x#top", (EntityType.URL, "https://example.org/page")),
        ("postcode:sw1a1aa", (EntityType.POSTCODE, "SW1A 1AA")),
        ("person:KHAN, Fatima", (EntityType.PERSON, "fatima khan")),
        ("org:network rail", (EntityType.ORG, "network rail")),
    ],
)
def test_a_target_is_keyed_as_reports_normalise_it(
    target: str, key: tuple[EntityType, str]
) -> None:
    assert entry(target).key == key


def test_a_target_may_be_given_as_type_and_value() -> None:
    target = Target.model_validate({"type": "phone", "value": "07700900123"})
    assert (target.type, target.key, str(target)) == (
        EntityType.PHONE,
        "+447700900123",
        "phone:07700900123",
    )


def test_a_stored_entry_reloads_with_its_key_recomputed() -> None:
    stored = entry("vehicle:ab12 cde").model_dump(mode="json")
    stored["target"]["key"] = "stale"
    assert WatchEntry.model_validate(stored).key == (EntityType.VEHICLE, "AB12CDE")


@pytest.mark.parametrize(
    "form",
    [
        "Fatima Khan",
        "fatima khan",
        "FATIMA KHAN",
        "KHAN Fatima",
        "Khan, Fatima",
        "Fátima Khán",
        "Mrs Fatima Khan",
        "  Fatima \t Khan. ",
    ],
)
def test_names_are_tolerant_of_case_accents_order_and_titles(form: str) -> None:
    assert entry(f"person:{form}").key == (EntityType.PERSON, "fatima khan")


def test_name_key_folds_apostrophes_hyphens_and_compatibility_forms() -> None:
    assert name_key("O’Neill-Smith, Zoë") == name_key("zoe o'neill smith") == "oneill smith zoe"
    assert name_key("ＦＡＴＩＭＡ Khan") == "fatima khan"


def test_expiry_defaults_to_ninety_days_and_an_entry_expires() -> None:
    made = entry("phone:07700 900123")
    assert made.expiry == NOW + timedelta(days=90)
    assert made.priority is Priority.NORMAL
    assert made.live(NOW)
    assert not made.live(made.expiry)


def test_an_expiry_up_to_a_year_is_accepted() -> None:
    assert entry("phone:07700 900123", expiry=NOW + timedelta(days=365)).live(NOW)


def errors(target: Any = "phone:07700 900123", **fields: Any) -> list[tuple[str, str]]:
    """(field, message) of each error creating the entry."""
    with pytest.raises(ValidationError) as raised:
        entry(target, **fields)
    return [(".".join(map(str, e["loc"])), e["msg"]) for e in raised.value.errors()]


@pytest.mark.parametrize(
    ("target", "fragment"),
    [
        ("phone:123", "phone: '123' is not recognised as one phone"),
        ("phone:07700 900123 45", "not recognised as one phone"),
        ("phone:call me", "not recognised as one phone"),
        ("fax:07700 900123", "unknown type 'fax'"),
        ("location:Leeds", "unknown type 'location'"),
        ("07700 900123", "is not `type:value`"),
        ("phone:", "phone: empty value"),
        ("person:   ", "person: empty value"),
        ("vehicle:hello", "not recognised as one vehicle"),
        ("vehicle:A123 CAR", "not recognised as one vehicle"),
        ("handle:@10pm", "not recognised as one handle"),
        ("handle:@a b", "not recognised as one handle"),
        ("email:not-an-address", "not recognised as one email"),
        ("url:ftp://example.org/x", "not recognised as one url"),
        ("url:https://user:pw@example.org/", "holds credentials"),
        ("postcode:QQ1 1AA", "not recognised as one postcode"),
        ("person:Mr", "not a name"),
        ("org:12345", "not a name"),
        ("url:https://example.org/" + "a" * 3000, "longer than 2048"),
        ({"type": "phone", "value": 7700900123}, "must be text"),
        (42, "a target is `type:value`"),
    ],
)
def test_a_bad_target_is_refused_naming_the_field(target: Any, fragment: str) -> None:
    [(field, message)] = errors(target)
    assert field == "target"
    assert fragment in message


@pytest.mark.parametrize(
    ("fields", "field", "fragment"),
    [
        ({"expiry": NOW - timedelta(days=1)}, "expiry", "is not after creation"),
        ({"expiry": NOW}, "expiry", "is not after creation"),
        ({"expiry": NOW + timedelta(days=366)}, "expiry", "more than a year"),
        ({"expiry": datetime(2027, 1, 1)}, "expiry", "timezone"),
        ({"created": datetime(2026, 12, 1)}, "created", "timezone"),
        ({"priority": "urgent"}, "priority", "'low', 'normal' or 'high'"),
        ({"id": ""}, "id", "pattern"),
        ({"id": "a\x1fb"}, "id", "pattern"),
        ({"owner": " "}, "owner", "at least 1"),
        ({"justification": ""}, "justification", "at least 1"),
        ({"colour": "red"}, "colour", "Extra inputs"),
    ],
)
def test_bad_fields_are_refused_naming_the_field(
    fields: dict[str, Any], field: str, fragment: str
) -> None:
    found = errors(**fields)
    assert any(name == field and fragment in message for name, message in found), found
