"""Emails, URLs (and their canonical form) and social-media handles."""

from __future__ import annotations

import pytest

from pipeline.enrich.exact import canonical_url, extract_email, extract_handle, extract_url


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail John.Smith@Example.COM.", "john.smith@example.com"),
        ("j.smith+tips@example.com", "j.smith+tips@example.com"),
        ("<a_b@sub.example.co.uk>", "a_b@sub.example.co.uk"),
        ("EMAIL ME ANGRY.DRIVER@EXAMPLE.COM", "angry.driver@example.com"),
    ],
)
def test_emails(text: str, expected: str) -> None:
    assert [m.value for m in extract_email(text)] == [expected]


@pytest.mark.parametrize("text", ["john@localhost", "@example.com", "john@", "a@b"])
def test_not_emails(text: str) -> None:
    assert extract_email(text) == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTPS://WWW.EXAMPLE.COM/PATH", "https://www.example.com/PATH"),
        ("https://example.com", "https://example.com/"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com/a?utm_source=x&id=3&fbclid=1#frag", "https://example.com/a?id=3"),
        ("https://example.com/?gclid=1&mc_eid=2&utm_medium=y", "https://example.com/"),
        ("www.example.org/page", "https://www.example.org/page"),
        ("https://youtu.be/dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
        ("youtu.be/abc?si=track&t=30", "https://www.youtube.com/watch?v=abc&t=30"),
        ("https://m.youtube.com/watch?v=abc&feature=share", "https://www.youtube.com/watch?v=abc"),
        ("https://x.com/a/status/1?s=20&t=xy", "https://x.com/a/status/1"),
        ("http://user:pw@Host.com/x", "http://host.com/x"),
        ("https://example.com./a", "https://example.com/a"),
    ],
)
def test_canonical_url(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected
    assert canonical_url(expected) == expected


@pytest.mark.parametrize("raw", ["https://localhost/a", "ftp://example.com/", "https://:80/"])
def test_canonical_url_rejects(raw: str) -> None:
    assert canonical_url(raw) is None


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("see https://example.com/a.", "https://example.com/a"),
        ("see https://example.com/a, then", "https://example.com/a"),
        ("(see https://example.com/a)", "https://example.com/a"),
        ("(https://en.wikipedia.org/wiki/A_(b))", "https://en.wikipedia.org/wiki/A_(b)"),
        ('"https://example.com/q?x=1"', "https://example.com/q?x=1"),
        ("t.me/somechannel!", "t.me/somechannel"),
        ("visit www.example.org/page?", "www.example.org/page"),
    ],
)
def test_trailing_punctuation_is_not_part_of_the_url(text: str, written: str) -> None:
    [mention] = extract_url(text)
    assert mention.text == written
    assert text[mention.start : mention.end] == written


def test_bare_domains_other_than_known_platforms_are_not_urls() -> None:
    assert extract_url("e.g. example.com or gov.uk") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("follow @Some_User now", ["@some_user"]),
        ("@john.smith, hi", ["@john.smith"]),
        ("(@a_b) and @CD", ["@a_b", "@cd"]),
        ("his insta is @white.lives.uk", ["@white.lives.uk"]),
    ],
)
def test_handles(text: str, expected: list[str]) -> None:
    assert [m.value for m in extract_handle(text)] == expected


@pytest.mark.parametrize(
    "text",
    [
        "john@example.com",
        "meet @10pm",
        "@ the park",
        "@12:30pm",
        "@gmail.com",
        "@123",
        "x@y",
        "@decorator(arg)",
        "npm i @scope/pkg",
        "<b @click=go>",
    ],
)
def test_not_handles(text: str) -> None:
    assert extract_handle(text) == []
