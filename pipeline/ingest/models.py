"""Pydantic models of the four intake record shapes (contract §1), one class per version."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from pipeline.ingest.sources import Source

# A narrative (`description`, `summary`, `concern`) has no length limit of its own: any that
# fits in a record (validate.MAX_RECORD_BYTES) is accepted and indexed whole, and enrichment
# bounds its own cost on long ones (pipeline/enrich/ner.py, NER_MAX_CHARS).
MAX_URL_CHARS = 8_192
"""Longest `url` accepted, in characters."""
MAX_ID_BYTES = 256
"""Longest upstream `id`, in UTF-8 bytes: it becomes part of the Elasticsearch `_id` (512 max)."""

# RFC 3339 `date-time`: full date, time, optional fraction, and a mandatory offset.
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


def parse_rfc3339(value: Any) -> datetime:
    """An RFC 3339 timestamp with an offset; anything else (dates, epochs, naive times) fails."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise PydanticCustomError(
            "bad_timestamp",
            "must be an RFC 3339 date-time with an offset, e.g. 2024-05-01T10:15:00Z",
        )
    try:
        return datetime.fromisoformat(value.upper())
    except ValueError:
        raise PydanticCustomError("bad_timestamp", "is not a real date and time") from None


def _check_id(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("empty_id", "must not be empty or blank")
    if len(value.encode("utf-8", "surrogatepass")) > MAX_ID_BYTES:
        raise PydanticCustomError("too_long", f"must be at most {MAX_ID_BYTES} UTF-8 bytes")
    return value


def _check_text(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("empty_text", "must contain some text")
    return value


Timestamp = Annotated[datetime, BeforeValidator(parse_rfc3339)]
RecordId = Annotated[str, AfterValidator(_check_id)]
Narrative = Annotated[str, AfterValidator(_check_text)]
Url = Annotated[str, Field(max_length=MAX_URL_CHARS), AfterValidator(_check_text)]


class _Open(BaseModel):
    """Strict types (no "12" for 12, no 1 for true), unknown fields allowed and kept.

    Enum fields are marked `strict=False` only because strict mode wants an enum instance,
    not the JSON string; a wrong string or a non-string still fails.
    """

    model_config = ConfigDict(strict=True, extra="allow", allow_inf_nan=False)


class Location(_Open):
    """Where something happened, as the contributor gave it."""

    text: str | None = None
    postcode: str | None = None
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)


class Contact(_Open):
    """The person who came forward (`reporter`, `caller`): restricted personal data."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    anonymous: bool | None = None


class Subject(_Open):
    """The person of concern in a radicalisation referral: restricted personal data."""

    name: str | None = None
    age: int | None = Field(None, ge=0, le=130)


class Channel(StrEnum):
    """How a public report reached the police."""

    ONLINE_FORM = "online_form"
    PHONE_101 = "phone_101"
    OFFICER = "officer"


class OnlineReferrerType(StrEnum):
    """Who referred online content."""

    PUBLIC = "public"
    THIRD_SECTOR = "third_sector"
    INDUSTRY = "industry"
    POLICE = "police"


class RadicalisationReferrerType(StrEnum):
    """Who made a radicalisation referral."""

    EDUCATION = "education"
    HEALTH = "health"
    SOCIAL_CARE = "social_care"
    PUBLIC = "public"
    POLICE = "police"
    OTHER = "other"


class IntakeRecord(_Open):
    """Fields every source shares, and how a record maps onto the normalised `Report`.

    `TEXT_FIELDS` are joined (blank line between) into `Report.text`; `RESTRICTED_FIELDS`
    go to `Report.restricted`; every other declared field except id, time, version,
    location and url goes to `Report.attributes`; unknown fields go to `Report.extra`.
    """

    SOURCE: ClassVar[Source]
    TEXT_FIELDS: ClassVar[tuple[str, ...]]
    RESTRICTED_FIELDS: ClassVar[tuple[str, ...]] = ()

    id: RecordId
    received_at: Timestamp
    schema_version: Literal[1] = 1


class PublicReportV1(IntakeRecord):
    """`intake.public-reports`: something a member of the public saw or heard."""

    SOURCE = Source.PUBLIC_REPORT
    TEXT_FIELDS = ("description",)
    RESTRICTED_FIELDS = ("reporter",)

    description: Narrative
    channel: Channel | None = Field(None, strict=False)
    location: Location | None = None
    reporter: Contact | None = None


class HotlineCallV1(IntakeRecord):
    """`intake.hotline-calls`: a call handler's summary of an anti-terrorism hotline call."""

    SOURCE = Source.HOTLINE_CALL
    TEXT_FIELDS = ("summary",)
    RESTRICTED_FIELDS = ("caller",)

    summary: Narrative
    duration_s: float | None = Field(None, ge=0)
    handler_id: str | None = None
    caller: Contact | None = None
    location: Location | None = None


class OnlineReferralV1(IntakeRecord):
    """`intake.online-referrals`: online content referred for review; `url` may be defanged."""

    SOURCE = Source.ONLINE_REFERRAL
    TEXT_FIELDS = ("description", "url")

    url: Url
    description: str | None = None
    platform: str | None = None
    referrer_type: OnlineReferrerType | None = Field(None, strict=False)


class RadicalisationReferralV1(IntakeRecord):
    """`intake.radicalisation-referrals`: a concern that someone is being drawn into terrorism."""

    SOURCE = Source.RADICALISATION_REFERRAL
    TEXT_FIELDS = ("concern",)
    RESTRICTED_FIELDS = ("subject",)

    concern: Narrative
    referrer_type: RadicalisationReferrerType | None = Field(None, strict=False)
    subject: Subject | None = None
    location: Location | None = None


# Add a version by writing e.g. `PublicReportV2` and listing it here; `schema_version`
# in the record picks the class, and schemas/<source>.v<N>.json is generated from it.
MODELS: dict[Source, dict[int, type[IntakeRecord]]] = {
    Source.PUBLIC_REPORT: {1: PublicReportV1},
    Source.HOTLINE_CALL: {1: HotlineCallV1},
    Source.ONLINE_REFERRAL: {1: OnlineReferralV1},
    Source.RADICALISATION_REFERRAL: {1: RadicalisationReferralV1},
}
