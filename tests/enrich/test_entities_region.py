"""Regions: every postcode area mapped, boundary districts, the gazetteer, and precedence."""

from __future__ import annotations

import re

import pytest

from pipeline.enrich.locate import derive_region
from pipeline.enrich.mentions import EntityType, Mention
from pipeline.enrich.places import PLACE_REGION, find_places, region_for_place, regions_named_in
from pipeline.enrich.regions import (
    FORCES_BY_REGION,
    POSTCODE_AREA_REGION,
    REGIONS,
    region_for_postcode,
)

CONTRACT_REGIONS = {
    "London", "North East", "North West", "South East", "West Midlands", "Eastern",
    "East Midlands", "Northern Ireland", "Scotland", "South West", "Wales",
}  # fmt: skip
# Royal Mail's 121 UK postcode areas.
UK_AREAS = set(
    re.split(
        r"\s+",
        """AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN
    DT DY E EC EH EN EX FK FY G GL GU HA HD HG HP HR HS HU HX IG IP IV KA KT KW KY L LA LD LE
    LL LN LS LU M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE SG
    SK SL SM SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV YO
    ZE""",
    )
)


def test_the_eleven_regions_are_the_contracts() -> None:
    assert set(REGIONS) == CONTRACT_REGIONS
    assert set(FORCES_BY_REGION) == CONTRACT_REGIONS


def test_every_uk_postcode_area_has_a_region() -> None:
    assert len(UK_AREAS) == 121
    assert set(POSTCODE_AREA_REGION) == UK_AREAS
    assert set(POSTCODE_AREA_REGION.values()) == CONTRACT_REGIONS


@pytest.mark.parametrize(
    ("postcode", "region"),
    [
        ("SW1A 1AA", "London"),
        ("EC1A 1BB", "London"),
        ("M1 1AE", "North West"),
        ("B11 1AA", "West Midlands"),
        ("BT1 5GS", "Northern Ireland"),
        ("EH1 1YZ", "Scotland"),
        ("G12 8QQ", "Scotland"),
        ("CF10 1EP", "Wales"),
        ("LS11 5AB", "North East"),
        ("NG7 2RD", "East Midlands"),
        ("IP1 1AA", "Eastern"),
        ("RH6 0NP", "South East"),
        ("PL1 2AA", "South West"),
        ("CH5 1AB", "Wales"),  # Flintshire, though CH is Chester
        ("CH1 1AB", "North West"),
        ("RM16 1AA", "Eastern"),  # Thurrock
        ("RM1 1AA", "London"),
        ("S41 7AB", "East Midlands"),  # Chesterfield
        ("SY23 1AA", "Wales"),  # Aberystwyth
        ("SY1 1AA", "West Midlands"),
        ("TW20 0AA", "South East"),
        ("MK40 1AA", "Eastern"),
        ("GIR 0AA", "North West"),
    ],
)
def test_region_for_postcode(postcode: str, region: str) -> None:
    assert region_for_postcode(postcode) == region


@pytest.mark.parametrize("postcode", ["GY1 1AA", "JE2 3AB", "IM1 1AA", "ZZ1 1ZZ"])
def test_no_region_outside_the_eleven(postcode: str) -> None:
    assert region_for_postcode(postcode) is None


@pytest.mark.parametrize(
    ("name", "region"),
    [
        ("Leeds", "North East"),
        ("LONDON", "London"),
        ("the City of London", "London"),
        ("King\u2019s Cross", "London"),
        ("Newcastle upon Tyne", "North East"),
        ("Cardiff", "Wales"),
        ("Belfast", "Northern Ireland"),
        ("Reading", "South East"),
    ],
)
def test_region_for_place(name: str, region: str) -> None:
    assert region_for_place(name) == region


@pytest.mark.parametrize(
    "name", ["Newport", "Richmond", "Kingston", "Bangor", "Perth", "Boston", "Paris", "Narnia"]
)
def test_ambiguous_or_foreign_places_yield_nothing(name: str) -> None:
    assert region_for_place(name) is None


def test_gazetteer_values_are_regions() -> None:
    assert set(PLACE_REGION.values()) == CONTRACT_REGIONS


def test_places_named_in_free_text() -> None:
    assert regions_named_in("outside Tesco, Deansgate, Manchester") == {"North West"}
    assert regions_named_in("from Leeds to London") == {"North East", "London"}
    assert regions_named_in("reading a book in the bath") == set()
    assert regions_named_in("Broad Street, Reading") == {"South East"}


def mention(kind: EntityType, value: str) -> Mention:
    return Mention(kind, value, value, 0, len(value))


def test_precedence_location_postcode_first() -> None:
    mentions = [mention(EntityType.POSTCODE, "M1 1AE"), mention(EntityType.LOCATION, "Leeds")]
    assert derive_region(mentions, "CF10 1EP", "Belfast") == "Wales"


def test_precedence_location_text_second() -> None:
    mentions = [mention(EntityType.POSTCODE, "M1 1AE")]
    assert derive_region(mentions, None, "near the docks, Belfast") == "Northern Ireland"
    assert derive_region(mentions, "not a postcode", "BT1 5GS") == "Northern Ireland"


def test_precedence_text_postcodes_then_ner_places() -> None:
    both = [mention(EntityType.LOCATION, "Leeds"), mention(EntityType.POSTCODE, "M1 1AE")]
    assert derive_region(both) == "North West"
    assert derive_region([mention(EntityType.LOCATION, "Leeds")]) == "North East"


def test_conflicting_evidence_falls_through_or_gives_none() -> None:
    places = [mention(EntityType.LOCATION, "Leeds"), mention(EntityType.LOCATION, "London")]
    assert derive_region(places) is None
    two_postcodes = [mention(EntityType.POSTCODE, "M1 1AE"), mention(EntityType.POSTCODE, "B1 1AA")]
    assert derive_region([*two_postcodes, mention(EntityType.LOCATION, "Leeds")]) == "North East"


def test_no_evidence_no_region() -> None:
    assert derive_region([]) is None
    assert derive_region([mention(EntityType.LOCATION, "Newport")], "GY1 1AA", "somewhere") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("outside Tesco, Deansgate, Manchester", ["Deansgate", "Manchester"]),
        ("THE HIGH STREET IN CROYDON", ["CROYDON"]),
        ("went from leeds to stoke-on-trent", ["leeds", "stoke-on-trent"]),
        ("Newcastle upon Tyne", ["Newcastle upon Tyne"]),
        ("west yorkshire police", ["west yorkshire"]),
        ("King\u2019s Cross station", ["King\u2019s Cross"]),
        ("Leeds,York", ["Leeds", "York"]),
        ("near scotland yard", ["scotland yard"]),
        ("flew to new york", []),
        ("the Prince of Wales pub", []),
        ("a dog barking at the reading room", []),
        ("Stockport Road and the Manchester Arena", []),
        ("newcastle", []),  # upon Tyne or under Lyme?
    ],
)
def test_find_places(text: str, expected: list[str]) -> None:
    assert [text[start:end] for start, end, _ in find_places(text)] == expected
