"""What the client presents as the code: our extractor, the server's guess, samples, links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tui.api.models import Message
from tui.core.inbox import build_item, is_sample
from tui.core.links import inspect_link
from tui.core.sanitize import clean, clean_block

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def msg(subject="", otp=None, link=None, sender="svc@site.io", at=NOW):
    return Message(
        message_id="m",
        sender=sender,
        subject=subject,
        received_at=at,
        otp_code=otp,
        verification_link=link,
        parsed_status="parsed" if otp or link else "pending",
    )


@pytest.mark.parametrize(
    ("subject", "server", "code", "guess"),
    [
        # The reference server's parser bugs (contract 5.4): never shown as the code.
        ("Your login code", "NULL", None, "NULL"),
        ("Enter this code within 10 minutes", "WITHIN", None, "WITHIN"),
        ("Order 2024 shipped", "2024", None, "2024"),
        # A code the server took from a body we cannot see: shown, attributed to the server.
        ("Your verification code", "482913", "482913", None),
        # Our extractor reads the subject; the server's different word is kept as its guess.
        ("Your verification code is 551234", "YOUR", "551234", "YOUR"),
        ("Nothing to see", None, None, None),
    ],
)
def test_code_and_server_guess(subject, server, code, guess):
    item = build_item(msg(subject, server))
    assert item.code == code
    assert item.server_guess == guess


def test_reference_sample_message_is_flagged_not_a_code():
    sample = msg(
        "Your verification code",
        "123456",
        "https://example.com/verify?token=test-token",
        sender="noreply@example.com",
    )
    assert is_sample(sample.__class__(**{**sample.__dict__}))
    item = build_item(sample)
    assert item.sample and item.code is None and item.server_guess == "123456"


def test_mail_before_the_lease_is_marked():
    item = build_item(msg("hi", at=NOW - timedelta(hours=1)), lease_started=NOW)
    assert item.before_lease
    assert not build_item(msg("hi"), lease_started=NOW).before_lease


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("https://xn--pypal-4ve.com/verify", "punycode"),
        ("https://paypal.com@evil.example/verify", "real host is evil.example"),
        ("javascript:alert(1)", "not a web link"),
        ("http://site.io/v", "unencrypted"),
        ("https://192.168.1.1/v", "bare IP"),
        ("https://site.io:8443/v", "unusual port"),
    ],
)
def test_link_warnings(url, needle):
    info = inspect_link(url)
    assert any(needle in w for w in info.warnings), info.warnings


def test_link_anchor_mismatch_and_openable():
    info = inspect_link("https://evil.example/login", anchor_text="accounts.google.com")
    assert any("says 'accounts.google.com'" in w for w in info.warnings)
    assert info.openable
    assert not inspect_link("javascript:alert(1)").openable
    clean_info = inspect_link("https://github.com/verify?t=1")
    assert clean_info.warnings == [] and clean_info.host == "github.com"


@pytest.mark.parametrize(
    "hostile",
    [
        "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07",
        "\x1b]52;c;cHduZWQ=\x07",
        "\x1b]0;title\x07",
        "\x1b[31mred\x1b[0m",
        "\x9b2J",
        "a\x00b\x07c\x08d",
        "\u202egnp.exe",
    ],
)
def test_sanitize_strips_escapes(hostile):
    out = clean(hostile)
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out
    assert all(ch.isprintable() for ch in out)
    assert "\u202e" not in out


def test_sanitize_caps_and_keeps_markup_literal():
    assert clean("x" * 500, 10) == "x" * 9 + "…"
    assert clean("[bold]hi[/bold] [@click=app.quit]") == "[bold]hi[/bold] [@click=app.quit]"
    assert clean_block("line1\nline2\x1b[2J") == "line1\nline2"
