"""The extractor's speed-ups keep its results: rewritten regexes match exactly what the plain
forms match, and huge messages (searched in their head and around keywords) stay correct."""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

from tui.extract import analyze_message, otp

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import bench_extract

# The masks as first written (one alternative per kind of span); otp._MASKS is the same
# alternation rewritten so that every alternative starts with a one-character test.
PLAIN_MASKS = re.compile(
    r"|".join(
        [
            r"\d{4}\s?[-/.年]\s?\d{1,2}\s?[-/.月]\s?\d{1,2}\s?日?",
            r"\d{1,2}\s?[-/.]\s?\d{1,2}\s?[-/.]\s?\d{2,4}(?!\d)",
            r"\d{1,2}\s?月\s?\d{1,2}\s?日",
            r"\d{4}\s?年(?:\s?\d{1,2}\s?月)?",
            r"\d{1,2}(?::\d{2}){1,2}(?:\s?[ap]\.?m\.?)?",
            r"\d{1,2}\s?[ap]\.?m\.?(?![A-Za-z])",
            r"\d{1,2}h\d{2}",
            r"[$€£¥₹₩]\s?\d[\d,. ]{0,20}\d|[$€£¥₹₩]\s?\d",
            r"(?<![\d.,])\d[\d,.]{0,20}\s?(?:€|円|元|USD|EUR|GBP|JPY|CNY|RMB|CHF|kr)(?![A-Za-z])",
            r"(?<![\d.,])\d+(?:[.,]\d+)+",
            r"(?<!\d)\d+\s?%",
            r"(?:[*•xX·.]{2,}|[xX])\s?-?\d{4}(?!\d)",
            r"(?-i:\b[A-Z]{2}\s\d{5}(?:-\d{4})?\b)",
            r"\d{5}-\d{4}",
            r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
            r"(?:\+|00)\d{1,3}[\s.-]?(?:\(\d{1,5}\)[\s.-]?)?\d{1,5}(?:[\s.-]?\d{2,5}){1,4}",
            r"\(\d{2,5}\)\s?\d{2,5}(?:[\s.-]\d{2,5}){1,2}",
            r"(?<!\d)1?[-.\s]?\d{3}[-.]\d{3}[-.]\d{4}(?!\d)",
            r"(?<!\d)0\d{1,4}[-\s/]\d{2,5}[-\s/]\d{3,5}(?!\d)",
            r"(?<!\d)0\d(?:[\s.]\d{2}){4}(?!\d)",
            r"(?<!\d)1[3-9]\d[\s-]\d{4}[\s-]\d{4}(?!\d)",
            r"(?<!\d)[48]00[\s-]\d{3}[\s-]\d{4}(?!\d)",
        ]
    ),
    re.I,
)
FRAGMENTS = [
    "2024-05-01", "01/05/2024", "5月1日", "2024年", "10:30 pm", "10 am", "14h30", "$1,234.56",
    "12,50 €", "1.234,56", "2.4.1", "50%", "**** 4242", "x4242", "CA 94107", "94107-1234",
    "123e4567-e89b-12d3-a456-426614174000", "+1 555 123 4567", "0044 20 7946 0958",
    "(555) 123-4567", "555-123-4567", "1-555-123-4567", "030 1234567", "06 12 34 56 78",
    "138 1234 5678", "800 555 1234", "482193", "48 21 93", "A1B2C3", "00", "12345678", "2024",
]  # fmt: skip
ALPHABET = "0123456789" * 4 + " -./:,\n\t+()%$€xX*•·hapmAFfUSDkr年月日_éK\u212a\u017f\u0131"


def _random_text(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 12)):
        if rng.random() < 0.5:
            parts.append(rng.choice(FRAGMENTS))
        else:
            parts.append("".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 6))))
    return "".join(parts)


def test_masks_match_the_plain_form() -> None:
    rng = random.Random(2024)
    for _ in range(20_000):
        text = _random_text(rng)
        pos = rng.randint(0, len(text))
        end = rng.randint(pos, len(text))
        if rng.random() < 0.5:
            pos, end = 0, len(text)
        expected = [m.span() for m in PLAIN_MASKS.finditer(text, pos, end)]
        assert [m.span() for m in otp._MASKS.finditer(text, pos, end)] == expected, text


def test_labels_match_the_plain_form() -> None:
    words = otp._STRONG + otp._DECOY + otp._GENERIC
    plain = re.compile(rf"(?:{otp._trie_alternation(words)}){otp._LATIN_E}|#\s*(?=\d)", re.I)
    plain_lower = re.compile(plain.pattern)
    rng = random.Random(7)
    vocab = ["code", "Verification code", "order #", "decode", "border", "验证码", "(c)", "n°"]
    for _ in range(3_000):
        text = "".join(
            rng.choice(vocab) if rng.random() < 0.4 else rng.choice("ab 12#:\n-éÀ")
            for _ in range(rng.randint(0, 15))
        )
        assert [m.span() for m in otp._LABEL.finditer(text)] == [
            m.span() for m in plain.finditer(text)
        ]
        low = text.lower()
        assert [m.span() for m in re.compile(otp._LABEL.pattern).finditer(low)] == [
            m.span() for m in plain_lower.finditer(low)
        ]


def test_lower_cased_meeting_and_travel_searches_agree() -> None:
    words = [
        "meeting id", "Meeting  ID", "join zoom meeting", "zoom.us/j", "WebEx", "besprechungs-id",
        "ID DE REUNIÓN", "会議ID", "flight", "xflight", "Boarding", "check-in", "E-Ticket",
        "record locator", "your trip", "vol ", "Flug", "航班", "K", "\u212a", "\n", " ", "-",
    ]  # fmt: skip
    rng = random.Random(5)
    for _ in range(20_000):
        text = "".join(
            rng.choice(words) if rng.random() < 0.3 else rng.choice("abdefgilmnoprtuxyz -.\n")
            for _ in range(rng.randint(0, 12))
        )
        lower = text.lower()
        assert bool(otp._MEETING.search(text)) == bool(otp._MEETING_LOWER.search(lower))
        assert bool(otp._TRAVEL.search(text)) == bool(otp._TRAVEL_LOWER.search(lower))


def test_fold_unsafe_characters_are_the_only_ones() -> None:
    """str.lower() and IGNORECASE agree on every character but the three _FOLD_UNSAFE ones."""
    letters = sorted(
        {c for rx in (otp._MEETING, otp._TRAVEL) for c in rx.pattern.lower() if c.isalpha()}
    )
    for cp in [*range(0x3000), 0x212A, 0x212B, 0x1E9E, 0xFF21]:
        ch = chr(cp)
        if otp._FOLD_UNSAFE.match(ch):
            continue
        for letter in letters:
            folded = re.fullmatch(re.escape(letter), ch, re.I) is not None
            assert folded == (ch.lower() == letter), (hex(cp), letter)


def test_worst_case_messages_keep_their_code() -> None:
    for make in (
        bench_extract.newsletter_200kb,
        bench_extract.dense_200kb,
        bench_extract.plain_numbers_200kb,
        bench_extract.nested_tables_200kb,
        bench_extract.links_200kb,
    ):
        assert analyze_message(make("731904")).otp == "731904", make.__name__


def test_huge_message_code_near_a_keyword_past_the_head_is_found() -> None:
    rows = "".join(f"{100000 + i * 7919 % 900000}\t{i}\tA{i % 97}K\n" for i in range(6000))
    for where in (0.5, 1.0):
        cut = int(len(rows) * where)
        body = rows[:cut] + "\nYour login code: 905113\n\nThanks,\nThe team\n\n" + rows[cut:]
        assert len(body) > otp.FOCUS_MIN_TEXT * 3
        raw = b"From: a@b.example\nSubject: report\n\n" + body.encode()
        assert analyze_message(raw).otp == "905113"


def test_focus_covers_small_texts_whole() -> None:
    text = "x" * otp.FOCUS_MIN_TEXT
    assert otp._focus(text, []) == [(0, len(text))]
    big = "y" * 50_000 + " verification code 123456 " + "z" * 50_000
    regions = otp._focus(big, otp._labels(big))
    assert regions[0] == (0, otp.FOCUS_HEAD)
    assert any(a <= 50_000 < 50_030 <= b for a, b in regions)
