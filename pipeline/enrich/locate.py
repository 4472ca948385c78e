"""Which counter-terrorism policing region a report belongs to, from what it says."""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.enrich.exact.postcode import extract_postcode, normalise_postcode
from pipeline.enrich.mentions import EntityType, Mention
from pipeline.enrich.places import region_for_place, regions_named_in
from pipeline.enrich.regions import region_for_postcode

__all__ = ["derive_region"]


def _one(regions: Iterable[str | None]) -> str | None:
    """The region if the evidence agrees on exactly one, else None."""
    found = {region for region in regions if region is not None}
    return found.pop() if len(found) == 1 else None


def derive_region(
    mentions: Iterable[Mention],
    location_postcode: str | None = None,
    location_text: str | None = None,
) -> str | None:
    """The report's region, trying the strongest evidence first.

    1. `location.postcode`, the place the contributor gave on purpose;
    2. `location.text`: a postcode in it, else the gazetteer places named in it;
    3. postcodes found in the report's text;
    4. places NER found in the report's text, looked up whole in the gazetteer.

    A step that yields no region, or evidence for two different regions ("from Leeds to
    London"), passes to the next; nothing at all gives None. Ambiguous place names are not
    in the gazetteer, so they never decide.
    """
    if location_postcode:
        normal = normalise_postcode(location_postcode)
        if normal is not None and (region := region_for_postcode(normal)) is not None:
            return region
    if location_text:
        in_text = [region_for_postcode(m.value) for m in extract_postcode(location_text)]
        region = _one(in_text) or _one(regions_named_in(location_text))
        if region is not None:
            return region
    mentions = list(mentions)
    postcodes = [region_for_postcode(m.value) for m in mentions if m.type is EntityType.POSTCODE]
    region = _one(postcodes)
    if region is not None:
        return region
    return _one(region_for_place(m.value) for m in mentions if m.type is EntityType.LOCATION)
