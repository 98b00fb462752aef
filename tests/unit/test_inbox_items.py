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


def test_a_whole_second_in_doubt_counts_as_another_lessees():
    """IMAP times are cut to the second: a mail stamped in the second a lease began may be
    the previous lessee's, one stamped in the second it ended the next lessee's."""
    from tui.core.inbox import doubtful_start, lease_bounds

    start = NOW + timedelta(milliseconds=600)  # 12:00:00.600
    end = NOW + timedelta(minutes=5, milliseconds=400)  # 12:05:00.400

    def imap_row(at):
        return Message("imap:1", "a@b.io", "code", at, None, None, "imap")

    assert lease_bounds(imap_row(NOW), start, end) == (True, False)  # 12:00:00.xxx: doubtful
    assert lease_bounds(imap_row(NOW + timedelta(seconds=1)), start, end) == (False, False)
    assert lease_bounds(imap_row(NOW + timedelta(minutes=4, seconds=59)), start, end) == (
        False,
        False,
    )
    assert lease_bounds(imap_row(NOW + timedelta(minutes=5)), start, end) == (False, True)
    # The API's milliseconds settle it.
    assert lease_bounds(msg("x", at=start + timedelta(milliseconds=1)), start, end) == (
        False,
        False,
    )
    assert lease_bounds(msg("x", at=end - timedelta(milliseconds=1)), start, end) == (
        False,
        False,
    )

    class Imap:
        received = NOW

    assert doubtful_start(Imap, start) and not doubtful_start(Imap, NOW + timedelta(seconds=1))
    assert not doubtful_start(Imap, NOW)  # 12:00:00.000 exactly: the lease's own


def test_paired_rows_keep_the_apis_milliseconds():
    from tui.core.inbox import arrived

    class Imap:
        received = NOW

    precise = msg("x", at=NOW + timedelta(milliseconds=900))
    assert arrived(precise, Imap) is precise
    skewed = msg("x", at=NOW - timedelta(minutes=3))  # from a Date header
    assert arrived(skewed, Imap).received_at == NOW


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


def imap_msg(uid, raw: bytes, arrived: datetime):
    from tui.imap.message import parse_message

    stamp = arrived.strftime("%d-%b-%Y %H:%M:%S +0000")
    return parse_message(uid, raw, size=len(raw), partial=False, internaldate=stamp)


def api_msg(mid, sender, subject, at):
    return Message(mid, sender, subject, at, None, None, "parsed")


def test_api_and_imap_rows_pair_despite_header_differences():
    from tui.core.inbox import arrived, match_imap

    late = NOW - timedelta(minutes=10)
    imap = [
        imap_msg(1, b"From: a@x.io\r\nSubject: Your   code\r\n  is here\r\n\r\n1\r\n", NOW),
        imap_msg(2, b"From: b@x.io\r\nSubject: =?utf-8?q?Caf=C3=A9?=\r\n\r\n2\r\n", NOW),
        imap_msg(3, b"From: c@x.io\r\n\r\nno subject\r\n", NOW),
        imap_msg(4, b"Subject: Bounce\r\n\r\nno From\r\n", NOW),
        imap_msg(5, b"From: Shop <Sec@SHOP.io>\r\nSubject: Alert\r\n\r\n5\r\n", NOW),
        imap_msg(
            6,
            b"From: d@x.io\r\nSubject: Late\r\nDate: "
            + late.strftime("%a, %d %b %Y %H:%M:%S +0000").encode()
            + b"\r\n\r\n6\r\n",
            NOW,
        ),
    ]
    api = [
        api_msg("m1", "a@x.io", "Your code is here", NOW),
        api_msg("m2", "b@x.io", "=?utf-8?q?Caf=C3=A9?=", NOW),  # left encoded by the server
        api_msg("m3", "c@x.io", "(no subject)", NOW),
        api_msg("m4", "env@bounce.io", "Bounce", NOW),  # the envelope sender
        api_msg("m5", "sec@shop.io", "ALERT", NOW),
        api_msg("m6", "d@x.io", "Late", late),  # received_at taken from the Date header
    ]
    pairs = match_imap(api, imap)
    assert {mid: m.uid for mid, m in pairs.items()} == {f"m{i}": i for i in range(1, 7)}
    # The mail server's arrival time places the mail in the lease and orders the list.
    assert arrived(api[5], pairs["m6"]).received_at == NOW
    assert build_item(api[5], lease_started=NOW - timedelta(minutes=1)).before_lease
    assert not build_item(
        arrived(api[5], pairs["m6"]), lease_started=NOW - timedelta(minutes=1)
    ).before_lease


def test_pairing_prefers_the_same_sender_then_the_closest_time():
    from tui.core.inbox import match_imap

    raw = b"From: %s\r\nSubject: Your code\r\n\r\nx\r\n"
    imap = [
        imap_msg(1, raw % b"one@x.io", NOW),
        imap_msg(2, raw % b"two@x.io", NOW + timedelta(seconds=2)),
        imap_msg(3, raw % b"two@x.io", NOW + timedelta(seconds=30)),
    ]
    api = [
        api_msg("late", "two@x.io", "Your code", NOW + timedelta(seconds=29)),
        api_msg("early", "two@x.io", "Your code", NOW + timedelta(seconds=2)),
        api_msg("one", "one@x.io", "Your code", NOW),
        api_msg("far", "one@x.io", "Your code", NOW + timedelta(minutes=5)),  # no twin in time
    ]
    pairs = {mid: m.uid for mid, m in match_imap(api, imap).items()}
    assert pairs == {"late": 3, "early": 2, "one": 1}


def test_a_subject_with_control_characters_still_pairs():
    """The sandbox squeezes a subject's controls to spaces, the extractor drops them: the
    same mail all the same."""
    from email.message import EmailMessage

    from tui.core.inbox import match_imap
    from tui.sandbox.mail.inbound import parse_headers

    msg = EmailMessage()
    msg["From"] = "a@x.io"
    msg["Subject"] = "\x1b]0;pwned\x07Your \u202ecode\u202c [b]now[/] \x1b[31mred\x1b[0m"
    msg.set_content("x")
    raw = bytes(msg)
    api = api_msg("m1", "a@x.io", parse_headers(raw).subject, NOW)
    pairs = match_imap([api], [imap_msg(1, raw, NOW)])
    assert {mid: m.uid for mid, m in pairs.items()} == {"m1": 1}


def test_a_resend_in_the_same_second_pairs_in_arrival_order():
    """IMAP's whole seconds tie a mail and its resend: the older API message takes the lower
    UID, whether or not the API lists the resend yet (a pair must not move when it does)."""
    from tui.core.inbox import match_imap

    raw = b"From: a@x.io\r\nSubject: Your code\r\n\r\nx\r\n"
    imap = [imap_msg(2, raw, NOW), imap_msg(1, raw, NOW)]  # newest first, as a reader lists
    first = api_msg("first", "a@x.io", "Your code", NOW + timedelta(milliseconds=300))
    resend = api_msg("resend", "a@x.io", "Your code", NOW + timedelta(milliseconds=700))
    assert {k: m.uid for k, m in match_imap([first], imap).items()} == {"first": 1}
    both = match_imap([resend, first], imap)
    assert {k: m.uid for k, m in both.items()} == {"first": 1, "resend": 2}


def test_whole_second_times_pair_with_the_second_they_stand_for():
    """An API time of 18.578 s belongs to the IMAP mail stamped 18 (it arrived in [18, 19)),
    not to the resend stamped 19 that is nearer to the number."""
    from tui.core.inbox import match_imap

    raw = b"From: a@x.io\r\nSubject: Your code\r\n\r\nx\r\n"
    base = NOW.replace(microsecond=0)
    imap = [imap_msg(2, raw, base + timedelta(seconds=1)), imap_msg(1, raw, base)]
    first = api_msg("first", "a@x.io", "Your code", base + timedelta(milliseconds=578))
    resend = api_msg("resend", "a@x.io", "Your code", base + timedelta(milliseconds=1052))
    assert {k: m.uid for k, m in match_imap([first], imap).items()} == {"first": 1}
    both = match_imap([first, resend], imap)
    assert {k: m.uid for k, m in both.items()} == {"first": 1, "resend": 2}


def _header_only(uid: int, subject: str, at: datetime, date: datetime | None = None):
    from tui.imap.message import parse_headers

    raw = f"From: s{uid % 2}@x.io\r\nSubject: {subject}\r\n"
    if date is not None:
        raw += f"Date: {date.strftime('%a, %d %b %Y %H:%M:%S +0000')}\r\n"
    stamp = at.strftime("%d-%b-%Y %H:%M:%S +0000")
    return parse_headers(uid, (raw + "\r\n").encode(), size=500, internaldate=stamp)


def test_pairing_is_the_same_as_if_every_message_were_keyed(monkeypatch):
    """Only mail that could pair by time is keyed (:func:`tui.core.inbox._near`); the pairs
    are those of keying every message: random times around the API's (the window's edges),
    Date headers off by minutes, subjects and senders that repeat."""
    import random

    import tui.core.inbox as inbox

    rng = random.Random(9)
    subjects = ["Your code", "Welcome", "Digest"]
    for _ in range(80):
        imaps = []
        for uid in range(1, 40):
            at = NOW + timedelta(seconds=rng.choice([-200, -64, -63, -62, -61, 0, 1, 61, 62, 300]))
            date = at + timedelta(seconds=rng.choice([0, -90, 75, 3600]))
            imaps.append(_header_only(uid, rng.choice(subjects), at, rng.choice([date, None])))
        apis = [
            api_msg(f"m{i}", f"s{rng.randint(0, 1)}@x.io", rng.choice(subjects),
                    NOW + timedelta(seconds=rng.uniform(-2, 2)))
            for i in range(rng.randint(0, 4))
        ]  # fmt: skip
        pairs = {k: v.uid for k, v in inbox.match_imap(apis, imaps).items()}
        with monkeypatch.context() as patch:
            patch.setattr(inbox, "_near", lambda messages: lambda imap: True)
            assert pairs == {k: v.uid for k, v in inbox.match_imap(apis, imaps).items()}


def test_mail_far_from_the_apis_is_not_keyed(monkeypatch):
    import tui.core.inbox as inbox

    old = [_header_only(uid, f"Digest {uid}", NOW - timedelta(days=3, seconds=uid))
           for uid in range(1, 1001)]  # fmt: skip
    near = _header_only(1001, "Your code", NOW - timedelta(seconds=30))
    keyed: list[str] = []
    real = inbox.match_key
    monkeypatch.setattr(inbox, "match_key", lambda text: keyed.append(text) or real(text))
    pairs = inbox.match_imap([api_msg("m1", "s1@x.io", "Your code", NOW)], [*old, near])
    assert {k: v.uid for k, v in pairs.items()} == {"m1": 1001}
    assert len(keyed) <= 4  # the near one's subject and sender, the API's: not 1,000 more
