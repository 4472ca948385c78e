"""Email addresses, URLs and social-media handles in free text, with their normal forms."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from pipeline.enrich.mentions import EntityType, Mention

__all__ = ["canonical_url", "extract_email", "extract_handle", "extract_url"]

_EMAIL = re.compile(
    r"(?<![\w.+%-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w@-])"
)
# A URL starts with a scheme or "www.", or is a bare link on a handful of platforms that
# people write without either ("youtu.be/abc", "t.me/channel"). It runs to the next space
# or character that cannot appear in a URL; trailing punctuation is trimmed afterwards.
_URL = re.compile(
    r"(?<![\w@.-])(?:https?://|www\.|(?:youtu\.be|t\.me|bit\.ly|"
    r"(?:[a-z0-9-]+\.)?(?:youtube|facebook|instagram|tiktok|twitter|x|telegram|reddit"
    r"|rumble|bitchute|gab)\.com)/)[^\s<>\"'`{}|\\^\[\]]*",
    re.IGNORECASE,
)
# Every URL _URL can match contains one of these; most texts contain none.
_URL_HINTS = ("://", "www.", "youtu.be/", "t.me/", "bit.ly/", ".com/")
_TRAILING = ".,;:!?'\"*…"
_HANDLE = re.compile(
    r"(?<![\w@./:+-])@([A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?)(?![\w@/=(]|\.[A-Za-z0-9])"
)
_NOT_HANDLE = re.compile(
    r"[0-9_.]+|[0-9]{1,2}(?:[.:][0-9]{2})?(?:am|pm)"
    r"|.*\.(?:com|net|org|io|info|gov|edu|co\.uk|org\.uk|ac\.uk|gov\.uk|nhs\.uk)",
    re.IGNORECASE,
)
_TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
        "mc_eid", "mc_cid", "igshid", "igsh", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok",
        "li_fat_id", "oly_anon_id", "oly_enc_id", "vero_id", "trk", "ref_src", "ref_url",
        "mibextid",
    }
)  # fmt: skip
# Share-button parameters that only mean "shared from the app" on these hosts.
_SHARE_PARAMS: dict[str, frozenset[str]] = {
    "www.youtube.com": frozenset({"si", "feature", "pp"}),
    "open.spotify.com": frozenset({"si"}),
    "twitter.com": frozenset({"s", "t"}),
    "x.com": frozenset({"s", "t"}),
    "www.instagram.com": frozenset({"hl"}),
    "www.tiktok.com": frozenset({"is_from_webapp", "sender_device", "_r", "_t", "web_id"}),
}
_HOST_ALIASES = {"youtube.com": "www.youtube.com", "m.youtube.com": "www.youtube.com"}
_DEFAULT_PORTS = {"http": 80, "https": 443}


def extract_email(text: str) -> list[Mention]:
    """Email addresses in `text`; the value is the address in lower case."""
    if "@" not in text:  # a substring test is ~100x cheaper than a regex scan
        return []
    return [
        Mention(EntityType.EMAIL, m.group(), m.group().lower(), m.start(), m.end())
        for m in _EMAIL.finditer(text)
    ]


def _trim(url: str) -> str:
    """Drop punctuation that ends the sentence rather than the URL; keep balanced brackets."""
    # Counted once and moved by index: recounting and slicing per character dropped made
    # a URL followed by thousands of dots or brackets quadratic.
    end, opened, closed = len(url), url.count("("), url.count(")")
    while end:
        last = url[end - 1]
        if last in _TRAILING:
            end -= 1
        elif last == ")" and opened < closed:
            end, closed = end - 1, closed - 1
        else:
            break
    return url[:end]


def canonical_url(raw: str) -> str | None:
    """The canonical form of a URL, or None if `raw` has no usable host.

    Scheme and host in lower case (a bare `www.` or platform link gets `https://`); default
    ports, credentials, the fragment and tracking parameters dropped; an empty path written
    as `/`; youtu.be short links expanded to `https://www.youtube.com/watch?v=ID`. Path and
    the remaining query are kept byte for byte, in their order. Idempotent.
    """
    if not re.match(r"[a-z][a-z0-9+.-]*://", raw, re.IGNORECASE):
        raw = "https://" + raw
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in _DEFAULT_PORTS or "." not in host:
        return None
    host = _HOST_ALIASES.get(host, host)
    path = parts.path or "/"
    query = parts.query
    if host == "youtu.be" and len(path) > 1:
        video = path.strip("/").split("/")[0]
        host, path = "www.youtube.com", "/watch"
        query = f"v={video}&{query}" if query else f"v={video}"
    # Credentials in a URL are dropped: they identify nothing and must not be indexed.
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, path, _strip_tracking(host, query), ""))


def _strip_tracking(host: str, query: str) -> str:
    share = _SHARE_PARAMS.get(host, frozenset())
    kept = []
    for pair in query.split("&"):
        key = pair.split("=", 1)[0].lower()
        if not pair or key.startswith("utm_") or key in _TRACKING_PARAMS or key in share:
            continue
        kept.append(pair)
    return "&".join(kept)


def extract_url(text: str) -> list[Mention]:
    """URLs in `text`; the value is `canonical_url` of the URL as written."""
    lower = text.lower()
    if not any(hint in lower for hint in _URL_HINTS):
        return []
    mentions: list[Mention] = []
    for match in _URL.finditer(text):
        written = _trim(match.group())
        value = canonical_url(written)
        if value is not None:
            end = match.start() + len(written)
            mentions.append(Mention(EntityType.URL, written, value, match.start(), end))
    return mentions


def extract_handle(text: str) -> list[Mention]:
    """Social-media handles (`@name`); the value is lower case with the `@`.

    Not a handle: the host part of an email address, a time ("@10pm"), bare numbers, or
    something that reads as a domain ("@gmail.com").
    """
    if "@" not in text:
        return []
    return [
        Mention(EntityType.HANDLE, m.group(), m.group().lower(), m.start(), m.end())
        for m in _HANDLE.finditer(text)
        if not _NOT_HANDLE.fullmatch(m.group(1))
    ]
