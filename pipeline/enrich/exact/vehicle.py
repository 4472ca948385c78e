"""UK vehicle registration marks in free text, normalised to upper case without spaces."""

from __future__ import annotations

import re

from pipeline.enrich.exact.fold import fold
from pipeline.enrich.mentions import EntityType, Mention

__all__ = ["extract_vehicle", "normalise_vehicle"]

# One pass over the text finds every registration-shaped token; the strict pattern for its
# shape then decides. (Five separate scans cost ~4x as much: FACTS.md budgets < 0.6 ms for
# all per-report work besides NER.) Where a mark has a space, any run of whitespace will do
# ("ab12  cde", a tab, a no-break space); the patterns read the folded text (exact/fold.py),
# so full-width letters and digits count too.
_CANDIDATE = re.compile(
    r"(?<![\w-])(?:"
    r"(?P<current>[A-Za-z]{2}[0-9]{2}\s*[A-Za-z]{3})"
    r"|(?P<spaced>[A-Z]{2}\s+[0-9]{2}\s+[A-Z]{3})"
    r"|(?P<prefix>[A-Z][0-9]{1,3}\s*[A-Z]{3})"
    r"|(?P<suffix>[A-Z]{3}\s*[0-9]{1,3}[A-Z])"
    r"|(?P<northern_ireland>[A-Z]{3}\s*[0-9]{1,4})"
    r")(?![\w-])"
)
_AGE = r"(?:0[2-9]|[1-3][0-9]|5[1-9]|[6-8][0-9])"
_STRICT: dict[str, re.Pattern[str]] = {
    # Current format (since Sept 2001): two memory-tag letters, a two-digit age identifier
    # (02-39 March, 51-89 September, leaving room for years to come) and three random
    # letters. I and Q are never used, Z only in the last three. Distinctive enough to accept
    # in any case and with or without the space.
    "current": re.compile(rf"[A-HJ-PR-Y]{{2}}{_AGE}\s*[A-HJ-PR-Z]{{3}}", re.IGNORECASE),
    # The same with a space inside ("AB 12 CDE"): in lower case that reads as prose ("on 12
    # may"), so capitals only, as for all the formats below.
    "spaced": re.compile(rf"[A-HJ-PR-Y]{{2}}\s+{_AGE}\s+[A-HJ-PR-Z]{{3}}"),
    # Prefix (1983-2001, `A123 BCD`) and suffix (1963-1983, `ABC 123D`) formats, and Northern
    # Ireland's (`ABZ 1234`, the last two letters a county code with I or Z). Their shapes
    # collide with everyday text ("M62 EAST", "APT 4B", "A1 AND"), so they are taken only in
    # capitals, and never when the letters are a common word or abbreviation.
    "prefix": re.compile(r"[A-HJ-NPR-TV-Y][1-9][0-9]{0,2}\s*[A-HJ-PR-Z]{3}"),
    "suffix": re.compile(r"[A-HJ-PR-Z]{3}\s*[1-9][0-9]{0,2}[A-HJ-NPR-TV-Y]"),
    "northern_ireland": re.compile(
        r"[A-HJ-PR-Z](?:[A-HJ-PR-Y]Z|I[ABGJLW]|[JOUX]I)\s*[1-9][0-9]{0,3}"
    ),
}
_LETTERS = re.compile(r"[A-Za-z]+")
_COMMON_PAIRS = frozenset(
    re.split(
        r"\s+",
        "AM AN AS AT BE BY DO DR GO HE IN IS IT ME MR MS MY NO OF OK ON OR SO ST TO UP US WE",
    )
)
_COMMON_TRIGRAMS = frozenset(
    re.split(
        r"\s+",
        """
    ACT ADD AGE AGO AID AIM AIR ALL AND ANY APP APT ARE ARM ART ASK ATE AVE BAD BAG BAR
    BED BET BIG BIN BIT BOX BOY BUS BUT BUY BYE CAB CAN CAP CAR CUT DAD DAY DEN DID DIE
    DOG DRY DUE EAR EAT EGG END ERA ETA EYE FAN FAR FAT FEW FIT FLT FLY FOR FOX FUN GAP
    GAS GET GOT GUN GUY HAD HAS HAT HER HEY HIM HIS HIT HOT HOW HUB JAM JOB JOY KEY KID LAD
    LAP LAW LAY LED LEG LET LIE LOG LOT LOW MAD MAN MAP MAY MEN MET MID MIX MOB MUM NAN NET
    NEW NHS NOR NOT NOW NUT OAP ODD OFF OLD ONE OUR OUT OWN PAD PAL PAN PAY PEN PER PET PHD
    PIN POT PUB PUT RAN RAP RAT RAW RED REF ROB ROD ROW RUN SAD SAT SAW SAY SEA SEE SET
    SEW SHE SHY SIR SIT SIX SKY SON SPA STN SUN TAG TAN TAX TEA TEN THE TIE TIP TOE TON TOO
    TOP TOW TOY TRY TWO USE VAN VAT VIA WAR WAS WAY WED WET WHO WHY WIN WON YES YET YOU
    BIZ FEZ WIZ SKI ZZZ URL API PDF USB CEO GPS DNA FAQ CPU GPU RAM SSD LED LCD SIM SMS MMS
    ATM BBC ITV GMT BST EST UTC DOB ETA AKA FYI ASAP HGV LGV MOT DVD CID MPS
    """.strip(),
    )
)


def normalise_vehicle(candidate: str) -> str:
    """Upper case, spaces removed, wide forms folded: `ab12 cde` -> `AB12CDE`."""
    return "".join(fold(candidate).split()).upper()


def _plausible(shape: str, written: str) -> bool:
    if not _STRICT[shape].fullmatch(written):
        return False
    if shape == "current":
        return True
    letters = _LETTERS.findall(written)
    if shape == "spaced":
        return letters[0] not in _COMMON_PAIRS and letters[1] not in _COMMON_TRIGRAMS
    # The three-letter group is the last in prefix marks and the first in the others.
    group = letters[-1] if shape == "prefix" else letters[0]
    return group not in _COMMON_TRIGRAMS


def extract_vehicle(text: str) -> list[Mention]:
    """UK registrations in `text`, each with its normal form and exact offsets."""
    mentions: list[Mention] = []
    for match in _CANDIDATE.finditer(fold(text)):
        folded = match.group()
        if match.lastgroup is not None and _plausible(match.lastgroup, folded):
            start, end = match.span()
            value = normalise_vehicle(folded)
            mentions.append(Mention(EntityType.VEHICLE, text[start:end], value, start, end))
    return mentions
