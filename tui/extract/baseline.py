"""A faithful re-implementation of the mailagents service's own parser (API notes, section 5.4).

Used only as the baseline that the real extractor is measured against. It keeps the
service's bugs on purpose: a missing field is written as the literal word ``null``, the
OTP is uppercased, ``code <word>`` grabs the next 4-8 character word (``WITHIN``,
``HELLO``, ``NULL``), the first standalone 4-8 digit number wins (years, order numbers),
and the first ``href`` in the raw HTML is the link (logos, with ``&amp;`` left encoded).
"""

from __future__ import annotations

import re

_STYLE_SCRIPT = re.compile(r"<(style|script)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_TAG = re.compile(r"<[^>]*>")
_NBSP = re.compile(r"&nbsp;", re.I)
_WS = re.compile(r"\s+")

_SEP = r"(?:\s+is|:|\s|-)+"
_WORD = r"\b([A-Z0-9]{4,8})\b"
_OTP_RULES = (
    re.compile(r"verification code" + _SEP + _WORD, re.I),
    re.compile(r"otp" + _SEP + _WORD, re.I),
    re.compile(r"code" + _SEP + _WORD, re.I),
    re.compile(r"\b(\d{4,8})\b"),
)
_HREF = re.compile(r"""href\s*=\s*(?:"(https?://[^"]*)"|'(https?://[^']*)')""", re.I)
_TEXT_URL = re.compile(r"https?://[^\s)>\"']+", re.I)


def strip_html(html: str) -> str:
    """The service's ``stripHtml``: drop style/script, tags and ``&nbsp;`` become spaces."""
    html = _STYLE_SCRIPT.sub(" ", html)
    html = _TAG.sub(" ", html)
    html = _NBSP.sub(" ", html)
    return _WS.sub(" ", html).strip()


def _field(value: str | None) -> str:
    """A missing (or empty) field is written out as the literal word ``null``."""
    return value or "null"


def server_style_extract(
    subject: str | None, text: str | None, html: str | None
) -> tuple[str | None, str | None]:
    """Return ``(otp, link)`` exactly as the service's parser would.

    ``text`` plays the part of ``text_excerpt`` and ``html`` of ``html_excerpt`` and
    ``html_body`` (in production the HTML fields are always missing and ``text_excerpt`` is
    the raw, undecoded body cut at 4000 characters).
    """
    # html_excerpt and html_body both hold the HTML when we have it; both are "null" otherwise.
    html_field = _field(html)
    combined = (
        _field(subject) + "\n" + _field(text) + "\n" + strip_html(html_field + "\n" + html_field)
    )
    otp: str | None = None
    for rule in _OTP_RULES:
        m = rule.search(combined)
        if m:
            otp = m.group(1).upper()
            break
    link: str | None = None
    if html:
        m = _HREF.search(html)
        if m:
            link = m.group(1) or m.group(2)
    if link is None:
        m = _TEXT_URL.search(combined)
        if m:
            link = m.group(0)
    return otp, link
