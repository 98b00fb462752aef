"""Hostile input never crashes the extractor (and big input stays reasonably fast)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tui.extract import analyze_message, analyze_parts, report
from tui.extract.htmltext import html_to_text

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def _check(raw: bytes) -> None:
    ex = analyze_message(raw)
    assert ex.otp is None or isinstance(ex.otp, str)
    assert ex.link is None or ex.link.startswith(("http://", "https://"))
    assert isinstance(ex.text, str)
    report(raw)


def _nested(depth: int) -> bytes:
    head = b"From: a@b.example\nSubject: deep\nMIME-Version: 1.0\n"
    opening = b"".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n'.encode() for i in range(depth)
    )
    closing = b"".join(f"--b{i}--\n".encode() for i in reversed(range(depth)))
    leaf = b"Content-Type: text/plain\n\nYour verification code is 123456\n"
    return head + opening + leaf + closing


@pytest.mark.parametrize("depth", [1, 50, 150])
def test_deeply_nested_multiparts(depth: int) -> None:
    _check(_nested(depth))


def test_nested_code_is_found_at_moderate_depth() -> None:
    assert analyze_message(_nested(50)).otp == "123456"


def test_200kb_message() -> None:
    rows = b"".join(
        b"<tr><td>Row %d</td><td><a href='https://e.example/p/%d'>item %d</a> $%d.99</td></tr>"
        % (i, i, i, i)
        for i in range(2500)
    )
    raw = (
        b"From: x@y.example\nSubject: big\nContent-Type: text/html; charset=utf-8\n\n<table>"
        + rows
        + b"</table><p>Your verification code is <b>482193</b></p>"
    )
    assert len(raw) > 200_000
    assert analyze_message(raw).otp == "482193"


MALFORMED = [
    b"",
    b"\n\n\n",
    b"Subject: only headers",
    b"\x00\xff\xfe" * 1000,
    b"From: x\nContent-Type: text/plain; charset=utf-16\n\n\xff\xfeY\x00o\x00u",
    b'From: x\nContent-Type: text/plain; charset=""\n\nbody 123456',
    b"From: x\nContent-Type: text/plain; charset=rot13\n\nbody",
    b"From: x\nContent-Type: text/html; charset=x-nope\n\n<a href='javascript:alert(1)'>Verify</a>",
    b"From: x\nContent-Transfer-Encoding: base64\n\n!!!!====",
    b"From: x\nContent-Transfer-Encoding: quoted-printable\n\n=\n=Z=\n=3",
    b"Subject: =?utf-8?B?" + b"A" * 5000 + b"?=\n\nx",
    b"Subject: =?bogus?Q?=FF=FE?= =?utf-8?X?bad?=\n\nx",
    b'Content-Type: multipart/mixed; boundary=""\n\n--\n--\n',
    b"Content-Type: message/rfc822\n\nContent-Type: message/rfc822\n\nSubject: x\n\ny",
    b"From: x\n\n" + b"A" * 150_000 + b" code 123456 " + b"9" * 50_000,
    b"From: x\n\n" + b"<" * 50_000 + b"a href=" * 5_000,
    b"From: x\nContent-Type: text/html\n\n" + b"<b>" * 20_000 + b"code 123456" + b"</i>" * 20_000,
    b"From: x\nContent-Type: text/html\n\n<style>" + b"x" * 100_000,
    b"From: x\nContent-Type: text/html\n\n<!--" + b"-" * 100_000,
    b"From: x\n\n" + b"1 " * 30_000,
    b"From: x\n\n" + b"https://" * 20_000,
    b"From: x\n\n" + b"a@" * 50_000,
]


@pytest.mark.parametrize("raw", MALFORMED, ids=[f"malformed{i}" for i in range(len(MALFORMED))])
def test_malformed_inputs_do_not_crash(raw: bytes) -> None:
    _check(raw)


def test_random_bytes_do_not_crash() -> None:
    rng = random.Random(1234)
    for _ in range(150):
        n = rng.choice([0, 1, 10, 100, 1000, 5000])
        _check(bytes(rng.getrandbits(8) for _ in range(n)))


def test_mutated_corpus_messages_do_not_crash() -> None:
    rng = random.Random(99)
    files = sorted(CORPUS.glob("*.eml"))
    for path in files:
        data = bytearray(path.read_bytes())
        for _ in range(1):
            mutated = bytearray(data)
            for _ in range(rng.randint(1, 20)):
                op = rng.random()
                pos = rng.randrange(len(mutated) or 1)
                if op < 0.4 and mutated:
                    mutated[pos] = rng.getrandbits(8)
                elif op < 0.7:
                    del mutated[pos : pos + rng.randint(1, 200)]
                else:
                    mutated[pos:pos] = bytes(rng.choice(b"<>=\n-\"'&;:?") for _ in range(5))
            _check(bytes(mutated))
        _check(bytes(data[: rng.randrange(len(data))]))  # truncated anywhere


def test_random_text_and_html_parts() -> None:
    rng = random.Random(7)
    alphabet = "<>/=\"'&#;abc def123 4567\n\t\x00\x1b验证码コード©€"
    for _ in range(200):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400)))
        analyze_parts(subject=s[:50], text=s, html=s)
        html_to_text(s)
