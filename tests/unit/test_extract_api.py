"""The public API of tui.extract, the service-style baseline, decoding and HTML conversion."""

from __future__ import annotations

import base64
import json

import pytest

from tui.extract import (
    Attachment,
    Candidate,
    Extraction,
    analyze_message,
    analyze_parts,
    format_report,
    report,
    server_style_extract,
)
from tui.extract.decode import decode_bytes, decode_header_value
from tui.extract.htmltext import html_to_text

# --- baseline: the table of observed results in mailagents-api.md section 5.4 -----------


@pytest.mark.parametrize(
    ("subject", "text", "html", "otp", "link"),
    [
        ("", "Your verification code is ab12cd.", "", "AB12CD", None),
        ("", "", '<a href="https://b.com/confirm?x=1">go</a>', None, "https://b.com/confirm?x=1"),
        (
            "Order 2024 shipped",
            "See https://shop.example/o/1",
            "",
            "2024",
            "https://shop.example/o/1",
        ),
        ("", "Use code: XY7Z9", "", "XY7Z9", None),
        ("", "OTP - 998877", "", "998877", None),
        ("", "Your OTP is 12ab", "", "12AB", None),
        ("", "Enter this code within 10 minutes: 551234", "", "WITHIN", None),
        ("Your login code", "Hello Bob, 551234", "", "HELLO", None),
        ("Your login code", "", "", "NULL", None),
        ("", "(c) 2025 ACME. Your pin 778899", "", "2025", None),
        ("", "ref 123456789", "", None, None),
        ("Verification code: AbCdEf12", "", "", "ABCDEF12", None),
    ],
)
def test_server_style_baseline_matches_observed_table(subject, text, html, otp, link) -> None:
    assert server_style_extract(subject, text, html) == (otp, link)


def test_baseline_keeps_amp_and_takes_first_href() -> None:
    html = (
        '<a href="https://x.com/"><img src=logo.png></a><a href="https://x.com/v?a=1&amp;b=2">V</a>'
    )
    assert server_style_extract("s", "t", html)[1] == "https://x.com/"


# --- our extractor on the same inputs ------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "text", "otp"),
    [
        ("", "Your verification code is ab12cd.", "ab12cd"),
        ("Order 2024 shipped", "Track it at https://shop.example/o/1", None),
        ("", "Use code: XY7Z9", "XY7Z9"),
        ("", "OTP - 998877", "998877"),
        ("", "Enter this code within 10 minutes: 551234", "551234"),
        ("Your login code", "Hello Bob, 551234", "551234"),
        ("Your login code", "", None),
        ("", "(c) 2025 ACME. Your pin 778899", "778899"),
        ("", "ref 123456789", None),
        ("Verification code: AbCdEf12", "", "AbCdEf12"),
        ("", "Your code is 482-193", "482193"),
        ("", "Your code:\n7 3 1 9 0 4", "731904"),
        ("G-847201 is your Google verification code", "", "847201"),
        ("", "您的验证码是：384912，5分钟内有效。", "384912"),  # noqa: RUF001
        ("", "認証コード：４２８１９３", "428193"),  # noqa: RUF001
        ("", "Ihr Bestätigungscode lautet: 572910", "572910"),
        ("", "Votre code de vérification est : 740128", "740128"),
        ("", "Tu código de verificación es 915320", "915320"),
        ("", "Order #123456 total $49.99, call 1-800-555-0199", None),
        ("", "Your card ending in 4242 was charged on 2024-05-01 at 10:30", None),
    ],
)
def test_analyze_parts_otp(subject: str, text: str, otp: str | None) -> None:
    assert analyze_parts(subject=subject, text=text).otp == otp


def test_analyze_parts_link_prefers_verify_over_logo_and_unsubscribe() -> None:
    html = (
        '<a href="https://acme.example/"><img src="https://acme.example/logo.png" alt="Acme"></a>'
        '<p>Welcome!</p><a href="https://acme.example/verify?t=abc&amp;u=1">Verify email</a>'
        '<a href="https://acme.example/unsubscribe">Unsubscribe</a>'
        '<a href="https://twitter.com/acme">Twitter</a>'
    )
    ex = analyze_parts(subject="Confirm your account", html=html)
    assert ex.link == "https://acme.example/verify?t=abc&u=1"
    assert ex.link_candidates[0].value == ex.link
    assert "verif" in ex.link_candidates[0].reason
    assert ex.text.startswith("Welcome!")


def test_newsletter_has_no_link_or_code() -> None:
    html = (
        "<h1>Issue #214</h1><p>We passed 12,000 readers in 2024.</p>"
        '<a href="https://news.example/a/1">Read more</a>'
        '<a href="https://news.example/unsubscribe">Unsubscribe</a>'
    )
    ex = analyze_parts(subject="Weekly news", html=html)
    assert (ex.otp, ex.link) == (None, None)


def test_extraction_types_and_frozen() -> None:
    ex = analyze_parts(text="Your verification code is 482193.")
    assert isinstance(ex, Extraction)
    assert all(isinstance(c, Candidate) for c in ex.otp_candidates)
    assert 0.5 <= ex.otp_candidates[0].score <= 1.0
    with pytest.raises(AttributeError):
        ex.otp = "1"  # type: ignore[misc]


def _mime(parts: list[bytes], subject: str = "Test") -> bytes:
    body = b"".join(b"--B\n" + p + b"\n" for p in parts) + b"--B--\n"
    return (
        f"From: =?utf-8?q?Acme_=C3=84G?= <no-reply@acme.example>\nSubject: {subject}\n"
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="B"\n\n'
    ).encode() + body


def test_analyze_message_fields_and_attachments() -> None:
    pdf = base64.encodebytes(b"%PDF-1.4 hello")
    raw = _mime(
        [
            b"Content-Type: text/plain; charset=utf-8\n\nYour login code is 551234.",
            b"Content-Type: application/pdf\nContent-Transfer-Encoding: base64\n"
            b'Content-Disposition: attachment; filename="a.pdf"\n\n' + pdf,
            b"Content-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=",
        ]
    )
    ex = analyze_message(raw)
    assert ex.otp == "551234"
    assert ex.sender == "Acme ÄG <no-reply@acme.example>"
    assert ex.subject == "Test"
    assert ex.attachments[0] == Attachment("a.pdf", "application/pdf", len(b"%PDF-1.4 hello"))
    assert ex.attachments[1].content_type == "image/png"
    assert ex.html is None


def test_report_shape_and_format() -> None:
    raw = _mime([b"Content-Type: text/plain\n\nYour verification code is 482193."])
    d = report(raw)
    assert set(d) == {"otp", "verification_link", "otp_candidates", "link_candidates"}
    assert d["otp"] == "482193" and d["verification_link"] is None
    assert set(d["otp_candidates"][0]) == {"value", "score", "reason"}
    json.dumps(d)  # JSON-serialisable
    text = format_report(d)
    assert "482193" in text and "Link: (none found)" in text


def test_format_report_strips_control_characters() -> None:
    d = {
        "otp": None,
        "verification_link": "https://x.example/\x1b[31mred",
        "otp_candidates": [],
        "link_candidates": [],
    }
    assert "\x1b" not in format_report(d)


# --- decoding -----------------------------------------------------------------------------


def test_encoded_words_split_mid_character_are_joined() -> None:
    data = "認証コード 551234".encode()
    w1, w2 = base64.b64encode(data[:4]).decode(), base64.b64encode(data[4:]).decode()
    assert decode_header_value(f"=?UTF-8?B?{w1}?=\n =?UTF-8?B?{w2}?=") == "認証コード 551234"


def test_encoded_word_q_and_unknown_charset() -> None:
    assert decode_header_value("=?ISO-8859-1?Q?Gr=FC=DFe?= aus Berlin") == "Grüße aus Berlin"
    assert decode_header_value("=?x-bogus?B?SGVsbG8=?=") == "Hello"


@pytest.mark.parametrize(
    ("data", "charset", "text"),
    [
        ("Grüße".encode(), "x-unknown-charset", "Grüße"),
        ("Grüße".encode("latin-1"), "utf-8", "Grüße"),  # lying label
        ("验证码".encode("gbk"), "gb2312", "验证码"),
        ("～認証".encode("cp932"), "shift_jis", "～認証"),  # noqa: RUF001
        ("–".encode("cp1252"), "iso-8859-1", "–"),  # noqa: RUF001
        (b"abc", "base64", "abc"),  # a codec that is not a text encoding
    ],
)
def test_decode_bytes_fallbacks(data: bytes, charset: str, text: str) -> None:
    assert decode_bytes(data, charset) == text


# --- HTML -> text -----------------------------------------------------------------------------


def test_html_to_text_keeps_cells_lines_and_drops_style_script() -> None:
    doc = html_to_text(
        "<html><head><style>td{color:red}</style><title>T</title></head><body>"
        "<script>var a = '<b>1234</b>';</script>"
        "<table><tr><td>Code</td><td><b>482193</b></td></tr><tr><td>Order</td><td>77</td></tr></table>"
        "<p>Line&nbsp;one<br>Line two &amp; more</p><!-- hidden 999999 -->"
        '<a href="https://x.example/v?a=1&amp;b=2">Verify</a></body></html>'
    )
    assert doc.text.splitlines()[:2] == ["Code\t482193", "Order\t77"]
    assert "Line one\nLine two & more" in doc.text
    assert "1234" not in doc.text and "999999" not in doc.text and "td{" not in doc.text
    assert doc.anchors[0].href == "https://x.example/v?a=1&b=2"
    assert doc.anchors[0].text == "Verify"
    assert [doc.text[s:e] for s, e in doc.emphasis] == ["482193"]
