"""The 11 counter-terrorism policing regions, their forces, and postcode area -> region.

Counter Terrorism Policing in the UK is organised in eleven regional units (contract §2
`region`). Each unit covers whole territorial police forces, so a place's region follows
from the force area it lies in:

- London: Metropolitan Police, City of London Police (CTP London / SO15).
- North East: Cleveland, Durham, Humberside, North Yorkshire, Northumbria, South Yorkshire,
  West Yorkshire.
- North West: Cheshire, Cumbria, Greater Manchester, Lancashire, Merseyside.
- West Midlands: Staffordshire, Warwickshire, West Mercia, West Midlands.
- East Midlands: Derbyshire, Leicestershire, Lincolnshire, Northamptonshire, Nottinghamshire.
- Eastern: Bedfordshire, Cambridgeshire, Essex, Hertfordshire, Norfolk, Suffolk.
- South East: Hampshire and Isle of Wight, Kent, Surrey, Sussex, Thames Valley.
- South West: Avon and Somerset, Devon and Cornwall, Dorset, Gloucestershire, Wiltshire.
- Wales: Dyfed-Powys, Gwent, North Wales, South Wales.
- Scotland: Police Scotland.
- Northern Ireland: Police Service of Northern Ireland.

Postcode areas (Royal Mail's 121 UK areas, named after their post towns) are mapped to
the region of the force that polices the area's post town and most of its districts.
Areas that straddle a regional boundary get district-level exceptions where a whole
district clearly lies on the other side (e.g. CH5-CH8 are Flintshire, Wales; RM15-RM20
are Thurrock, Essex; SY15-SY25 are Powys/Ceredigion/Gwynedd). The remaining error is at
the edges of a few districts, which is acceptable for routing a report to a region. The
Crown Dependencies (GY, JE, IM) have their own police and no region; BFPO has none.
"""

from __future__ import annotations

__all__ = [
    "FORCES_BY_REGION",
    "POSTCODE_AREAS",
    "POSTCODE_AREA_REGION",
    "REGIONS",
    "region_for_postcode",
]

LONDON = "London"
NORTH_EAST = "North East"
NORTH_WEST = "North West"
SOUTH_EAST = "South East"
WEST_MIDLANDS = "West Midlands"
EASTERN = "Eastern"
EAST_MIDLANDS = "East Midlands"
NORTHERN_IRELAND = "Northern Ireland"
SCOTLAND = "Scotland"
SOUTH_WEST = "South West"
WALES = "Wales"

REGIONS: tuple[str, ...] = (
    LONDON, NORTH_EAST, NORTH_WEST, SOUTH_EAST, WEST_MIDLANDS, EASTERN,
    EAST_MIDLANDS, NORTHERN_IRELAND, SCOTLAND, SOUTH_WEST, WALES,
)  # fmt: skip

FORCES_BY_REGION: dict[str, tuple[str, ...]] = {
    LONDON: ("Metropolitan Police", "City of London Police"),
    NORTH_EAST: (
        "Cleveland", "Durham", "Humberside", "North Yorkshire", "Northumbria",
        "South Yorkshire", "West Yorkshire",
    ),
    NORTH_WEST: ("Cheshire", "Cumbria", "Greater Manchester", "Lancashire", "Merseyside"),
    WEST_MIDLANDS: ("Staffordshire", "Warwickshire", "West Mercia", "West Midlands"),
    EAST_MIDLANDS: (
        "Derbyshire", "Leicestershire", "Lincolnshire", "Northamptonshire", "Nottinghamshire",
    ),
    EASTERN: ("Bedfordshire", "Cambridgeshire", "Essex", "Hertfordshire", "Norfolk", "Suffolk"),
    SOUTH_EAST: ("Hampshire and Isle of Wight", "Kent", "Surrey", "Sussex", "Thames Valley"),
    SOUTH_WEST: (
        "Avon and Somerset", "Devon and Cornwall", "Dorset", "Gloucestershire", "Wiltshire",
    ),
    WALES: ("Dyfed-Powys", "Gwent", "North Wales", "South Wales"),
    SCOTLAND: ("Police Scotland",),
    NORTHERN_IRELAND: ("Police Service of Northern Ireland",),
}  # fmt: skip

_AREAS_BY_REGION: dict[str, str] = {
    LONDON: "BR CR E EC HA IG KT N NW RM SE SM SW TW UB W WC",
    NORTH_EAST: "BD DH DL DN HD HG HU HX LS NE S SR TS WF YO",
    NORTH_WEST: "BB BL CA CH CW FY L LA M OL PR SK WA WN",
    WEST_MIDLANDS: "B CV DY HR ST SY TF WR WS WV",
    EAST_MIDLANDS: "DE LE LN NG NN",
    EASTERN: "AL CB CM CO EN IP LU NR PE SG SS WD",
    SOUTH_EAST: "BN CT DA GU HP ME MK OX PO RG RH SL SO TN",
    SOUTH_WEST: "BA BH BS DT EX GL PL SN SP TA TQ TR",
    WALES: "CF LD LL NP SA",
    SCOTLAND: "AB DD DG EH FK G HS IV KA KW KY ML PA PH TD ZE",
    NORTHERN_IRELAND: "BT",
}

POSTCODE_AREA_REGION: dict[str, str] = {
    area: region for region, areas in _AREAS_BY_REGION.items() for area in areas.split()
}
# Every area the postcode extractor accepts: the UK's plus the Crown Dependencies'.
POSTCODE_AREAS: frozenset[str] = frozenset(POSTCODE_AREA_REGION) | {"GY", "JE", "IM"}


def _districts(area: str, numbers: range | tuple[int, ...]) -> list[str]:
    return [f"{area}{n}" for n in numbers]


# Outward codes whose district lies in another region than its area's default.
_DISTRICT_REGION: dict[str, str] = {
    **dict.fromkeys(_districts("CH", range(5, 9)), WALES),
    **dict.fromkeys(_districts("DA", (5, 6, 7, 8, 14, 15, 16, 17, 18)), LONDON),
    **dict.fromkeys(_districts("EN", range(6, 12)), EASTERN),
    **dict.fromkeys(_districts("HP", (1, 2, 3, 4, 23)), EASTERN),
    **dict.fromkeys(_districts("IG", (7, 9, 10)), EASTERN),
    **dict.fromkeys(_districts("KT", (7, 8, *range(10, 25))), SOUTH_EAST),
    **dict.fromkeys(_districts("MK", range(40, 46)), EASTERN),
    **dict.fromkeys(_districts("PE", (9, 10, 11, 12, *range(20, 26))), EAST_MIDLANDS),
    **dict.fromkeys(_districts("RM", range(15, 21)), EASTERN),
    **dict.fromkeys(_districts("S", (*range(40, 46), 80, 81)), EAST_MIDLANDS),
    **dict.fromkeys(_districts("SK", (13, 17, 22, 23)), EAST_MIDLANDS),
    **dict.fromkeys(_districts("SM", (7,)), SOUTH_EAST),
    **dict.fromkeys(_districts("SP", (6, 10, 11)), SOUTH_EAST),
    **dict.fromkeys(_districts("SY", range(15, 26)), WALES),
    **dict.fromkeys(_districts("TD", (15,)), NORTH_EAST),
    **dict.fromkeys(_districts("TW", range(15, 21)), SOUTH_EAST),
}


def region_for_postcode(postcode: str) -> str | None:
    """The region of a normalised postcode (`OUTWARD INWARD`), or None outside the 11."""
    outward = postcode.split(" ", 1)[0].upper()
    if outward == "GIR":
        return NORTH_WEST  # GIR 0AA: the former Girobank, Bootle (Merseyside)
    district = outward.rstrip("ABCDEFGHJKLMNPRSTUVWXY") if outward[-1:].isalpha() else outward
    if district in _DISTRICT_REGION:
        return _DISTRICT_REGION[district]
    area = district.rstrip("0123456789")
    return POSTCODE_AREA_REGION.get(area)
